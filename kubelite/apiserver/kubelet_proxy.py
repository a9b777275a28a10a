"""How the API server reaches a kubelet (upstream's pkg/kubelet/client and the
upgrade-aware proxy of apimachinery/pkg/util/proxy).

`KubeletTransport` holds the TLS the API server uses towards kubelets: its client
certificate (user `kube-apiserver-kubelet-client`, as kubeadm issues it) and the CA
it checks kubelets' serving certificates with (none: not checked, upstream's
default without --kubelet-certificate-authority).

Plain requests (logs, nodes/proxy) go through an aiohttp session; the answer is
streamed back as it comes. Upgrades (exec, attach, port-forward) are spliced: the
client's request goes to the kubelet as it was sent (path and query rewritten,
credentials dropped), the kubelet's `101 Switching Protocols` goes back with its
headers, and from then on the bytes are copied both ways unread, whatever protocol
the two ends speak (WebSocket channels, SPDY/3.1). A kubelet that refuses the
upgrade has its answer passed back as is.

One translation is made, as upstream's tunneling handler does: kubectl (1.31 and
later) tunnels port-forward's SPDY through a WebSocket
(`SPDY/3.1+portforward.k8s.io`); the API server unwraps the WebSocket's binary
messages and speaks raw SPDY to the kubelet, which only knows SPDY for port-forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl

import aiohttp
from aiohttp import web

from kubelite.machinery import errors
from kubelite.machinery.httpstream.splice import open_upgrade, race, splice_upgrade

log = logging.getLogger(__name__)

TUNNELED_PORT_FORWARD = "SPDY/3.1+portforward.k8s.io"
# request headers not passed on: hop-by-hop ones, and the client's credentials (the
# kubelet sees the API server, which has authorized the request)
_DROPPED = frozenset({"host", "authorization", "keep-alive", "proxy-connection", "te",
                      "trailer", "transfer-encoding", "impersonate-user", "impersonate-group",
                      "impersonate-uid", "content-length"})


class KubeletTransport:
    def __init__(self, ssl_context: ssl.SSLContext | None = None, *,
                 connect_timeout: float = 10.0) -> None:
        """`ssl_context`: client certificate and kubelet CA; None connects without
        either (kubelets that do not authenticate, simulated ones)."""
        if ssl_context is None:
            ssl_context = ssl.create_default_context()
            ssl_context.check_hostname = False
            ssl_context.verify_mode = ssl.CERT_NONE
        self.ssl_context = ssl_context
        self.connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.ssl_context),
                timeout=aiohttp.ClientTimeout(total=None, sock_connect=self.connect_timeout),
                auto_decompress=False)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def stream_get(self, request: web.Request, url: str,
                         content_type: str = "text/plain") -> web.StreamResponse:
        """GET `url` and stream the answer back; an error answer becomes a Status
        with the kubelet's text as its message (upstream's GenericHttpResponseChecker)."""
        try:
            upstream = await self.session().get(url)
        except (aiohttp.ClientError, OSError) as exc:
            raise errors.ServiceUnavailable(f"error trying to reach the kubelet: {exc}") from None
        async with upstream:
            if upstream.status >= 300:
                raise _status_of(upstream.status, (await upstream.read()).decode("utf-8",
                                                                                 "replace"))
            response = web.StreamResponse(headers={
                "Content-Type": upstream.headers.get("Content-Type", content_type)})
            await response.prepare(request)
            try:
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
            except (ConnectionError, aiohttp.ClientError, RuntimeError):
                return response  # either end went away
            await response.write_eof()
            return response

    async def proxy(self, request: web.Request, url: str) -> web.StreamResponse:
        """Any request (nodes/proxy): method, body and answer passed through."""
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _DROPPED}
        try:
            upstream = await self.session().request(request.method, url, headers=headers,
                                                    data=await request.read())
        except (aiohttp.ClientError, OSError) as exc:
            raise errors.ServiceUnavailable(f"error trying to reach the kubelet: {exc}") from None
        async with upstream:
            response = web.StreamResponse(status=upstream.status, headers={
                k: v for k, v in upstream.headers.items()
                if k.lower() not in ("transfer-encoding", "content-length", "connection")})
            await response.prepare(request)
            with contextlib.suppress(ConnectionError, aiohttp.ClientError, RuntimeError):
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
            return response

    async def upgrade(self, request: web.Request, url: str) -> web.StreamResponse:
        """Splices an upgrade request through to the kubelet."""
        protocols = [p.strip() for p in
                     request.headers.get("Sec-WebSocket-Protocol", "").split(",")]
        if (request.headers.get("Upgrade", "").lower() == "websocket"
                and TUNNELED_PORT_FORWARD in protocols):
            return await self._tunnel(request, url)
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in _DROPPED]
        return await splice_upgrade(request, url, headers, ssl_context=self.ssl_context,
                                    connect_timeout=self.connect_timeout, peer="the kubelet")

    async def _tunnel(self, request: web.Request, url: str) -> web.StreamResponse:
        status, answer, body, reader, writer = await open_upgrade(url, "POST", [
            ("Connection", "Upgrade"), ("Upgrade", "SPDY/3.1"),
            ("X-Stream-Protocol-Version", "portforward.k8s.io")],
            ssl_context=self.ssl_context, connect_timeout=self.connect_timeout, peer="the kubelet")
        if status != 101:
            raise _status_of(status, body.decode("utf-8", "replace"))
        ws = web.WebSocketResponse(protocols=(TUNNELED_PORT_FORWARD,))
        await ws.prepare(request)

        async def from_client() -> None:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.BINARY:
                    writer.write(message.data)
                    await writer.drain()

        async def to_client() -> None:
            while chunk := await reader.read(64 * 1024):
                await ws.send_bytes(chunk)

        await race(from_client(), to_client())
        writer.close()
        await ws.close()
        return ws


_BY_CODE: dict[int, type[errors.StatusError]] = {
    400: errors.BadRequest, 401: errors.Unauthorized, 403: errors.Forbidden,
    404: errors.NotFound, 405: errors.MethodNotAllowed, 409: errors.Conflict,
    429: errors.TooManyRequests, 503: errors.ServiceUnavailable, 504: errors.Timeout}


def _status_of(code: int, text: str) -> errors.StatusError:
    return _BY_CODE.get(code, errors.InternalError)(text.strip())
