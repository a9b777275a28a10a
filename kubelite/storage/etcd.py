"""etcd backend: the store on a real etcd v3 cluster, over its JSON gRPC gateway.

etcd already is the store the contract describes, so this module only translates:
every call is one HTTP POST to the gateway (`/v3/kv/range`, `/v3/kv/txn`,
`/v3/kv/compaction`, streaming `/v3/watch`) with base64 keys and values, so no gRPC
code generation is needed. Writes are single transactions, as kube-apiserver's etcd3
store does them:

- create: `if create_revision(key) == 0 then put`
- update: `if mod_revision(key) == expected and create_revision(key) > 0 then put
  else get` (the `else get` fills RevisionMismatch.current)
- delete: the same guard, `then delete (prev_kv)`

etcd acknowledges a write after its raft log entry is fsynced on a quorum, which is
the durability the contract asks for. Errors map back by etcd's messages: "required
revision has been compacted" is Compacted, "required revision is a future revision"
is FutureRevision.

Endpoints are tried in turn: a connection that cannot be opened moves on to the next
endpoint and retries (the request never left), and so does a read that broke midway.
A write whose connection broke after sending is not retried: it may have committed,
and retrying a create would wrongly report KeyExists.

A watch is one streaming request per caller. It first checks `revision` against the
compacted revision with a range pinned there (etcd only refuses a watch starting
below the compacted revision, which is one revision laxer than the contract), then
resumes on another endpoint from the last delivered revision if the stream breaks.

etcd has no call that reports the compacted revision; `compact_revision()` finds it
by bisecting revisions with ranges pinned at them (those below it fail), about
log2(revision) requests, which is fine for a rarely asked question. A fresh etcd is
at revision 1, not 0.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from kubelite.storage.backend import (
    Compacted,
    Event,
    EventType,
    FutureRevision,
    KeyExists,
    KeyNotFound,
    KeyValue,
    RangeResult,
    RevisionMismatch,
    StorageError,
)

_COMPACTED = "required revision has been compacted"
_FUTURE = "required revision is a future revision"
REVISION_PROBES = 4  # concurrent current-revision requests at most
_ANY_KEY = "AA=="  # base64 of b"\0": with range_end "\0", every key
# One key nobody writes: reading it costs etcd a single lookup, and the answer's header
# still carries the store's current revision (a count over every key does not scale).
_PROBE_KEY = base64.b64encode(b"/kubelite/revision-probe").decode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _key(key: str) -> str:
    return _b64(key.encode())


def _prefix_end(prefix: bytes) -> bytes:
    """etcd's range end for a prefix (clientv3.GetPrefixRangeEnd); b"\\0" means all."""
    end = bytearray(prefix)
    while end:
        if end[-1] < 0xFF:
            end[-1] += 1
            return bytes(end)
        end.pop()
    return b"\0"


def _kv(raw: dict[str, Any]) -> KeyValue:
    return KeyValue(
        key=base64.b64decode(raw["key"]).decode(),
        value=base64.b64decode(raw.get("value", "")),
        create_revision=int(raw.get("create_revision", 0)),
        mod_revision=int(raw.get("mod_revision", 0)),
    )


def _event(raw: dict[str, Any]) -> Event:
    kv = _kv(raw["kv"])
    prev = _kv(raw["prev_kv"]) if "prev_kv" in raw else None
    if raw.get("type") == "DELETE":
        # etcd's delete event has no value; the contract puts the last value in kv.
        last = prev or kv
        gone = KeyValue(kv.key, last.value, last.create_revision, kv.mod_revision)
        return Event(EventType.DELETE, gone, prev)
    return Event(EventType.PUT, kv, prev if kv.create_revision != kv.mod_revision else None)


class _Compacted(Exception):
    """etcd refused a revision as compacted; the caller knows which one it asked for."""


class EtcdBackend:
    """A store on etcd v3, reached through its HTTP/JSON gateway with failover."""

    def __init__(self, endpoints: list[str], *, timeout: float = 30.0) -> None:
        if not endpoints:
            raise ValueError("EtcdBackend needs at least one endpoint")
        self._endpoints = [self._normalize(e) for e in endpoints]
        self._active = 0
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._streams: set[aiohttp.ClientResponse] = set()
        self._compact_floor = 0  # the compacted revision only grows: bisect from here
        self._revision_joinable: asyncio.Future[int] | None = None
        self._revision_slots = asyncio.Semaphore(REVISION_PROBES)
        self._revision_tasks: set[asyncio.Task[None]] = set()
        self._closed = False

    @staticmethod
    def _normalize(endpoint: str) -> str:
        endpoint = endpoint.strip().rstrip("/")
        if endpoint.startswith("etcd://"):
            endpoint = "http://" + endpoint[len("etcd://") :]
        if not endpoint.startswith(("http://", "https://")):
            endpoint = "http://" + endpoint
        return endpoint

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=256)
        self._session = aiohttp.ClientSession(connector=connector)

    async def close(self) -> None:
        self._closed = True
        for stream in list(self._streams):
            stream.close()
        if self._session is not None:
            await self._session.close()

    # -- transport --------------------------------------------------------------

    async def _post(self, path: str, body: dict[str, Any], *, idempotent: bool = True) -> Any:
        if self._session is None or self._closed:
            raise StorageError("backend is closed")
        data = orjson.dumps(body)
        failures: list[str] = []
        for _ in range(len(self._endpoints)):
            base = self._endpoints[self._active]
            try:
                async with self._session.post(
                    base + path, data=data, timeout=aiohttp.ClientTimeout(total=self._timeout)
                ) as resp:
                    status, payload = resp.status, await resp.read()
            except aiohttp.ClientConnectorError as err:  # never sent: safe to retry
                failures.append(f"{base}: {err}")
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                if not idempotent:
                    raise StorageError(f"etcd {base}{path}: outcome unknown: {err!r}") from err
                failures.append(f"{base}: {err!r}")
            else:
                result = orjson.loads(payload) if payload else {}
                if status != 200:
                    message = str(result.get("error") or result.get("message") or payload[:200])
                    if _COMPACTED in message:
                        raise _Compacted(message)
                    if _FUTURE in message:
                        raise FutureRevision(message)
                    raise StorageError(f"etcd {path}: {message}")
                return result
            self._active = (self._active + 1) % len(self._endpoints)
        raise StorageError("no etcd endpoint answered: " + "; ".join(failures))

    async def _range(self, body: dict[str, Any], revision: int) -> dict[str, Any]:
        if revision:
            body["revision"] = revision
        try:
            result: dict[str, Any] = await self._post("/v3/kv/range", body)
        except _Compacted:
            raise Compacted(revision, await self.compact_revision()) from None
        return result

    # -- reads --------------------------------------------------------------------

    async def current_revision(self) -> int:
        """The newest revision, as of a request that starts after the call: concurrent
        callers share a request (the API server asks this before every consistent
        read), but never one that started before they arrived, so each still sees
        every write acknowledged before its call. Up to REVISION_PROBES requests run at
        once, so a caller waits about one round trip, not the tail of another."""
        if self._revision_joinable is None:
            probe = asyncio.get_running_loop().create_future()
            self._revision_joinable = probe
            task = asyncio.create_task(self._probe_revision(probe))
            self._revision_tasks.add(task)
            task.add_done_callback(self._revision_tasks.discard)
        return await asyncio.shield(self._revision_joinable)

    async def _probe_revision(self, probe: asyncio.Future[int]) -> None:
        async with self._revision_slots:
            if self._revision_joinable is probe:
                self._revision_joinable = None  # from here on, callers need a later probe
            try:
                result = await self._range({"key": _PROBE_KEY}, 0)
                probe.set_result(int(result["header"]["revision"]))
            except BaseException as exc:
                probe.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise

    async def get(self, key: str, *, revision: int = 0) -> KeyValue | None:
        result = await self._range({"key": _key(key)}, revision)
        kvs = result.get("kvs")
        return _kv(kvs[0]) if kvs else None

    async def range(
        self, prefix: str, *, start: str = "", limit: int = 0, revision: int = 0
    ) -> RangeResult:
        raw_prefix = prefix.encode()
        end = _b64(_prefix_end(raw_prefix))
        first = max(raw_prefix, start.encode()) or b"\0"
        body: dict[str, Any] = {"key": _b64(first), "range_end": end}
        if limit:
            body["limit"] = limit
        result = await self._range(body, revision)
        read_at = revision or int(result["header"]["revision"])
        kvs = [_kv(raw) for raw in result.get("kvs", ())]
        count = int(result.get("count", 0))
        if start.encode() > raw_prefix:  # etcd counts from `start`; the contract does not
            counted = await self._range(
                {"key": _b64(raw_prefix or b"\0"), "range_end": end, "count_only": True}, read_at
            )
            count = int(counted.get("count", 0))
        return RangeResult(kvs=kvs, revision=read_at, more=bool(result.get("more")), count=count)

    async def compact_revision(self) -> int:
        current = await self.current_revision()
        lo, hi = max(self._compact_floor, 1), current  # range at `hi` always succeeds
        while lo < hi:
            mid = (lo + hi) // 2
            try:
                probe = {"key": _ANY_KEY, "count_only": True, "revision": mid}
                await self._post("/v3/kv/range", probe)
            except _Compacted:
                lo = mid + 1
            else:
                hi = mid
        self._compact_floor = lo
        return lo if lo > 1 else 0  # nothing lies below revision 1 to forget

    # -- writes ---------------------------------------------------------------------

    async def _txn(self, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._post("/v3/kv/txn", body, idempotent=False)
        return result

    @staticmethod
    def _guard(key: str, expected: int) -> list[dict[str, Any]]:
        compare: list[dict[str, Any]] = [
            {"key": key, "target": "CREATE", "result": "GREATER", "create_revision": 0}
        ]
        if expected:
            compare.append(
                {"key": key, "target": "MOD", "result": "EQUAL", "mod_revision": expected}
            )
        return compare

    @staticmethod
    def _refusal(key: str, result: dict[str, Any]) -> StorageError:
        kvs = result["responses"][0]["response_range"].get("kvs")
        if not kvs:
            return KeyNotFound(key)
        return RevisionMismatch(key, _kv(kvs[0]))

    async def create(self, key: str, value: bytes) -> int:
        k = _key(key)
        result = await self._txn(
            {
                "compare": [
                    {"key": k, "target": "CREATE", "result": "EQUAL", "create_revision": 0}
                ],
                "success": [{"request_put": {"key": k, "value": _b64(value)}}],
            }
        )
        if not result.get("succeeded"):
            raise KeyExists(key)
        return int(result["header"]["revision"])

    async def update(self, key: str, value: bytes, *, expected_revision: int) -> int:
        k = _key(key)
        if expected_revision <= 0:  # no key has mod_revision 0: report what is there
            current = await self.get(key)
            raise KeyNotFound(key) if current is None else RevisionMismatch(key, current)
        result = await self._txn(
            {
                "compare": self._guard(k, expected_revision),
                "success": [{"request_put": {"key": k, "value": _b64(value)}}],
                "failure": [{"request_range": {"key": k}}],
            }
        )
        if not result.get("succeeded"):
            raise self._refusal(key, result)
        return int(result["header"]["revision"])

    async def delete(self, key: str, *, expected_revision: int = 0) -> KeyValue:
        k = _key(key)
        result = await self._txn(
            {
                "compare": self._guard(k, expected_revision),
                "success": [{"request_delete_range": {"key": k, "prev_kv": True}}],
                "failure": [{"request_range": {"key": k}}],
            }
        )
        if not result.get("succeeded"):
            raise self._refusal(key, result)
        prev = _kv(result["responses"][0]["response_delete_range"]["prev_kvs"][0])
        rev = int(result["header"]["revision"])
        return KeyValue(key, prev.value, prev.create_revision, rev)

    async def compact(self, revision: int) -> None:
        try:
            await self._post("/v3/kv/compaction", {"revision": revision, "physical": True})
        except _Compacted:
            return  # already compacted at least that far
        self._compact_floor = max(self._compact_floor, revision)

    # -- watch ----------------------------------------------------------------------

    def watch(self, prefix: str, *, revision: int) -> AsyncIterator[list[Event]]:
        return self._watch(prefix, revision)

    async def _watch(self, prefix: str, revision: int) -> AsyncIterator[list[Event]]:
        if self._session is None or self._closed:
            return
        try:  # the contract's bound: revision < compacted revision is refused
            await self._range({"key": _ANY_KEY, "count_only": True}, max(revision, 1))
        except FutureRevision:
            pass  # watching from the future is allowed: events arrive once they exist
        raw_prefix = prefix.encode()
        create = {
            "key": _b64(raw_prefix or b"\0"),
            "range_end": _b64(_prefix_end(raw_prefix)),
            "prev_kv": True,
        }
        next_rev = revision + 1
        broken = 0
        while not self._closed:
            base = self._endpoints[self._active]
            body = orjson.dumps({"create_request": {**create, "start_revision": next_rev}})
            resp: aiohttp.ClientResponse | None = None
            try:
                resp = await self._session.post(
                    base + "/v3/watch", data=body, timeout=aiohttp.ClientTimeout(total=None)
                )
                self._streams.add(resp)
                if resp.status != 200:
                    raise StorageError(f"etcd watch: HTTP {resp.status}: {await resp.text()}")
                async for message in self._messages(resp):
                    result = message.get("result") or {}
                    if "error" in message:
                        raise StorageError(f"etcd watch: {message['error']}")
                    if int(result.get("compact_revision", 0)):
                        raise Compacted(next_rev - 1, int(result["compact_revision"]))
                    if result.get("canceled"):
                        raise StorageError(f"etcd watch canceled: {result.get('cancel_reason')}")
                    if raw_events := result.get("events"):
                        batch = [_event(raw) for raw in raw_events]
                        next_rev = batch[-1].kv.mod_revision + 1
                        broken = 0
                        yield batch
                failure = "stream ended"
            except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                failure = repr(err)
            finally:
                if resp is not None:
                    self._streams.discard(resp)
                    resp.close()
            if self._closed:
                return
            # Resume from the next undelivered revision, on the next endpoint.
            broken += 1
            if broken > len(self._endpoints):
                raise StorageError(f"etcd watch lost every endpoint: {failure}")
            self._active = (self._active + 1) % len(self._endpoints)

    @staticmethod
    async def _messages(resp: aiohttp.ClientResponse) -> AsyncIterator[dict[str, Any]]:
        """The gateway streams one JSON object per line."""
        buffer = bytearray()
        async for chunk in resp.content.iter_any():
            buffer += chunk
            while (newline := buffer.find(b"\n")) >= 0:
                line = bytes(buffer[:newline])
                del buffer[: newline + 1]
                if line.strip():
                    yield orjson.loads(line)
