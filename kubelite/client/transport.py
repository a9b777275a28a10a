"""How the client reaches an API server: the `Transport` protocol and its HTTP form.

A transport moves bytes; it knows nothing of resources. The REST client (rest.py)
builds paths and query strings, and a transport answers with a `Response` (status,
headers, whole body) or, for watches, a `Stream` whose body is read line by line as
the server writes it. Two transports exist:

- `HTTPTransport` (here): aiohttp over http or https, for any Kubernetes API server,
  with the TLS and credentials of a kubeconfig (kubeconfig.py).
- `InProcessTransport` (inprocess.py): calls kubelite's own server in the same event
  loop, for components that live in the API server's process.

Guarantees: a transport never raises for an HTTP status (the client decides what a
404 means); it raises `ConnectionError` subclasses (aiohttp's `ClientError` is
translated) when the server cannot be reached, so retry loops catch one family.
A `Stream` must be closed (`async with`), which for a watch ends the request.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
from multidict import CIMultiDict


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


class Stream(Protocol):
    """A response whose body is still arriving (a watch)."""

    status: int
    headers: Mapping[str, str]

    async def read(self) -> bytes:
        """The whole remaining body (used for error responses)."""
        ...

    def lines(self) -> AsyncIterator[bytes]:
        """Each newline-terminated line as it arrives; ends when the server ends."""
        ...

    async def close(self) -> None:
        """Ends the request; idempotent."""
        ...

    async def __aenter__(self) -> Stream: ...

    async def __aexit__(self, *exc: object) -> None: ...


class Transport(Protocol):
    """Sends one request. `path` is absolute (`/api/v1/pods`); `params` are already
    strings. Both methods are safe to call concurrently from one event loop."""

    async def request(self, method: str, path: str, *,
                      params: Mapping[str, str] | None = None,
                      body: bytes | None = None,
                      headers: Mapping[str, str] | None = None) -> Response: ...

    async def stream(self, method: str, path: str, *,
                     params: Mapping[str, str] | None = None,
                     headers: Mapping[str, str] | None = None) -> Stream: ...

    async def close(self) -> None: ...


# The largest watch event accepted: well above the 3 MiB an object may have in etcd.
_MAX_LINE = 256 << 20


class TransportError(ConnectionError):
    """The server could not be reached, or the connection broke mid-response."""


class _HTTPStream:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status
        self.headers: Mapping[str, str] = response.headers

    async def read(self) -> bytes:
        try:
            return await self._response.read()
        except aiohttp.ClientError as exc:
            raise TransportError(str(exc)) from exc

    async def lines(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while True:
                # readuntil grows its buffer as needed: a watch event is one line,
                # however large the object (readline() would stop at 64 KiB).
                line = await content.readuntil(b"\n", max_size=_MAX_LINE)
                if not line:
                    return
                yield line
        except aiohttp.ClientPayloadError as exc:
            raise TransportError(f"watch stream broke: {exc}") from exc
        except aiohttp.ClientError as exc:
            raise TransportError(str(exc)) from exc

    async def close(self) -> None:
        # close(), not release(): the connection may be mid-chunk, and returning it to
        # the pool would hand the next request a half-read body.
        self._response.close()

    async def __aenter__(self) -> _HTTPStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class HTTPTransport:
    """aiohttp to one API server. `ssl_context` carries the CA and client certificate;
    `token` becomes `Authorization: Bearer`. Requests time out after `timeout`
    seconds; streams only on connect, since a watch may stay silent for minutes."""

    def __init__(self, server: str, *, ssl_context: ssl.SSLContext | None = None,
                 token: str | None = None, username: str | None = None,
                 password: str | None = None, timeout: float = 60.0,
                 max_connections: int = 100, user_agent: str = "kubelite") -> None:
        self.server = server.rstrip("/")
        self._ssl: ssl.SSLContext | bool = ssl_context if ssl_context is not None else True
        headers = CIMultiDict({"User-Agent": user_agent})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._auth = aiohttp.BasicAuth(username, password or "") if username else None
        self._default_headers = headers
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._stream_timeout = aiohttp.ClientTimeout(total=None, connect=timeout,
                                                     sock_connect=timeout)
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _get_session(self) -> aiohttp.ClientSession:
        # Created lazily so a transport can be built outside a running event loop.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl)
            self._session = aiohttp.ClientSession(
                connector=connector, headers=self._default_headers, auth=self._auth,
                # The API server's JSON is ours to parse; skip aiohttp's cookie jar.
                cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=True)
        return self._session

    async def request(self, method: str, path: str, *,
                      params: Mapping[str, str] | None = None,
                      body: bytes | None = None,
                      headers: Mapping[str, str] | None = None) -> Response:
        session = self._get_session()
        try:
            async with session.request(method, self.server + path, params=params,
                                       data=body, headers=headers,
                                       timeout=self._timeout) as resp:
                data = await resp.read()
                return Response(resp.status, data, resp.headers)
        except aiohttp.ClientError as exc:
            raise TransportError(f"{method} {path}: {exc}") from exc
        except asyncio.TimeoutError as exc:
            raise TransportError(f"{method} {path}: timed out") from exc

    async def stream(self, method: str, path: str, *,
                     params: Mapping[str, str] | None = None,
                     headers: Mapping[str, str] | None = None) -> Stream:
        session = self._get_session()
        try:
            resp = await session.request(method, self.server + path, params=params,
                                         headers=headers, timeout=self._stream_timeout)
        except aiohttp.ClientError as exc:
            raise TransportError(f"{method} {path}: {exc}") from exc
        except asyncio.TimeoutError as exc:
            raise TransportError(f"{method} {path}: timed out") from exc
        return _HTTPStream(resp)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
