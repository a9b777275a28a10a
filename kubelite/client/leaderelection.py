"""Leader election on a coordination.k8s.io/v1 Lease (client-go tools/leaderelection).

Several replicas of a component run `LeaderElector.run()`; one holds the Lease and
runs `on_started_leading`, the others wait. The record lives in the Lease spec:
holderIdentity, leaseDurationSeconds, acquireTime, renewTime, leaseTransitions.

- Acquire: every `retry_period`, read the Lease (create it if missing). It is free when
  it has no holder, is ours, or its record has not changed for leaseDurationSeconds
  as measured on *our* clock since we last saw it change. Clocks of different
  machines are never compared, only observed changes, as upstream does.
- Writes are optimistic: the update carries the resourceVersion read, so of two
  candidates racing for a free Lease exactly one wins and the other gets a Conflict.
- Renew: every `retry_period` while leading. If no renew succeeds for
  `renew_deadline`, leadership is lost: the leading task is cancelled and
  `on_stopped_leading` runs. `renew_deadline` < `lease_duration` leaves the old
  leader time to stop before anyone else may take over.
- Release: when `run()` is cancelled (or `release_on_cancel`) the leader empties
  holderIdentity and sets leaseDurationSeconds to 1, so a successor need not wait
  out the full duration.

`run()` returns after leadership ends, as client-go's Run does: a component that
lost its lease should exit (or call `run()` again to campaign anew).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from kubelite.client.rest import Client
from kubelite.client.transport import TransportError
from kubelite.machinery import errors
from kubelite.machinery.timestamps import now_micro_time

log = logging.getLogger(__name__)

Obj = dict[str, Any]
LEASES = "leases.coordination.k8s.io"


async def _maybe_await(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


class LeaderElector:
    def __init__(self, client: Client, *, name: str, identity: str,
                 on_started_leading: Callable[[], Coroutine[Any, Any, None]],
                 on_stopped_leading: Callable[[], Awaitable[None] | None] | None = None,
                 on_new_leader: Callable[[str], Awaitable[None] | None] | None = None,
                 namespace: str = "kube-system", lease_duration: float = 15.0,
                 renew_deadline: float = 10.0, retry_period: float = 2.0,
                 release_on_cancel: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not lease_duration > renew_deadline > retry_period > 0:
            raise ValueError("need lease_duration > renew_deadline > retry_period > 0")
        if not identity:
            raise ValueError("leader election needs an identity")
        self.client = client
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.release_on_cancel = release_on_cancel
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._on_new_leader = on_new_leader
        self._clock = clock
        self._observed: Obj | None = None  # the Lease as last read or written
        self._observed_spec: Obj = {}
        self._observed_time = 0.0
        self._reported_leader: str | None = None

    # --- state -------------------------------------------------------------------

    def is_leader(self) -> bool:
        return self._observed_spec.get("holderIdentity") == self.identity

    def get_leader(self) -> str:
        return str(self._observed_spec.get("holderIdentity") or "")

    # --- the protocol ---------------------------------------------------------------

    async def try_acquire_or_renew(self) -> bool:
        """One attempt; True if we hold the Lease afterwards."""
        now = now_micro_time()
        duration = max(1, math.ceil(self.lease_duration))
        try:
            lease = await self.client.get(LEASES, self.name, namespace=self.namespace)
        except errors.NotFound:
            spec = {"holderIdentity": self.identity, "leaseDurationSeconds": duration,
                    "acquireTime": now, "renewTime": now, "leaseTransitions": 0}
            try:
                created = await self.client.create(LEASES, {
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": self.name, "namespace": self.namespace},
                    "spec": spec})
            except errors.AlreadyExists:
                return False  # another candidate created it first
            self._observe(created)
            return True
        self._observe(lease)
        spec = self._observed_spec
        holder = spec.get("holderIdentity") or ""
        held_for = int(str(spec.get("leaseDurationSeconds") or duration))
        if holder and holder != self.identity and \
                self._observed_time + held_for > self._clock():
            return False  # someone else holds it and has renewed within its duration
        new_spec = {"holderIdentity": self.identity, "leaseDurationSeconds": duration,
                    "renewTime": now}
        if holder == self.identity:
            new_spec["acquireTime"] = spec.get("acquireTime") or now
            new_spec["leaseTransitions"] = int(str(spec.get("leaseTransitions") or 0))
        else:
            new_spec["acquireTime"] = now
            new_spec["leaseTransitions"] = int(str(spec.get("leaseTransitions") or 0)) + 1
        updated = dict(lease, spec={**spec, **new_spec})  # resourceVersion kept: optimistic
        try:
            written = await self.client.update(LEASES, updated, namespace=self.namespace)
        except errors.Conflict:
            return False
        self._observe(written)
        return True

    def _observe(self, lease: Obj) -> None:
        spec = lease.get("spec") or {}
        if spec != self._observed_spec:
            self._observed_spec = spec
            self._observed_time = self._clock()
        self._observed = lease

    async def release(self) -> bool:
        """Give the Lease up if we hold it; True if it was released."""
        if not self.is_leader() or self._observed is None:
            return False
        now = now_micro_time()
        spec = {"holderIdentity": None, "leaseDurationSeconds": 1, "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": int(self._observed_spec.get("leaseTransitions") or 0)}
        try:
            written = await self.client.update(
                LEASES, dict(self._observed, spec=spec), namespace=self.namespace)
        except (errors.StatusError, TransportError) as err:
            log.warning("lease %s/%s: release failed: %s", self.namespace, self.name, err)
            return False
        self._observe(written)
        return True

    # --- the loop ------------------------------------------------------------------------

    async def _attempt(self) -> bool:
        try:
            ok = await self.try_acquire_or_renew()
        except (errors.StatusError, TransportError, OSError) as err:
            log.warning("lease %s/%s: %s", self.namespace, self.name, err)
            ok = False
        leader = self.get_leader()
        if leader and leader != self._reported_leader:
            self._reported_leader = leader
            if self._on_new_leader is not None:
                await _maybe_await(self._on_new_leader(leader))
        return ok

    async def _acquire(self) -> None:
        while not await self._attempt():
            await asyncio.sleep(self.retry_period)

    async def _renew(self) -> None:
        """Returns when a renew_deadline passes without a successful renew."""
        last_ok = self._clock()
        while True:
            await asyncio.sleep(self.retry_period)
            if await self._attempt():
                last_ok = self._clock()
            elif not self.is_leader() or self._clock() - last_ok >= self.renew_deadline:
                return

    async def run(self) -> None:
        """Campaign, lead, and return once leadership is lost (or cancelled)."""
        await self._acquire()
        log.info("lease %s/%s acquired by %s", self.namespace, self.name, self.identity)
        leading = asyncio.create_task(self._on_started(), name=f"leading {self.name}")
        renew = asyncio.create_task(self._renew(), name=f"renew {self.name}")
        try:
            # Leadership ends when renewing fails; the leading task ending by itself
            # does not end leadership (upstream keeps renewing too).
            await renew
            log.warning("lease %s/%s lost by %s", self.namespace, self.name, self.identity)
        finally:
            renew.cancel()
            leading.cancel()
            await asyncio.gather(renew, leading, return_exceptions=True)
            try:
                if self._on_stopped is not None:
                    await _maybe_await(self._on_stopped())
            finally:
                if self.release_on_cancel:
                    await asyncio.shield(self.release())
