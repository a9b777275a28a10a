"""The kubelet's own HTTPS server (upstream's pkg/kubelet/server/server.go).

The API server reaches a node's pods through it (`kubectl logs`, `exec`, `attach`,
`port-forward`), and scrapers read the node's stats from it:

    GET       /healthz                                   ok
    GET       /pods                                      the pods this kubelet runs
    GET       /containerLogs/{ns}/{pod}/{container}      a container's log (logs/reader.py)
    GET|POST  /exec/{ns}/{pod}[/{uid}]/{container}       ?command=..&stdin&stdout&stderr&tty
    GET|POST  /attach/{ns}/{pod}[/{uid}]/{container}
    POST      /run/{ns}/{pod}[/{uid}]/{container}        ?cmd=..: runs, answers the output
    GET|POST  /portForward/{ns}/{pod}[/{uid}]            SPDY/3.1 or WebSocket ?port=
    GET       /stats/summary, /metrics/resource          the node's usage (kubelet/stats.py)

exec and attach speak the WebSocket channel protocols (remotecommand.py) or SPDY/3.1
(remotecommand_spdy.py, what a kube-apiserver speaks to kubelets); port-forward speaks
SPDY/3.1 or WebSocket (portforward.py). On a runtime that streams from a server of its
own (cri.StreamingURLs: containerd's, CRI-O's), the runtime answers a session URL and
the request is passed on there, spliced (machinery/httpstream/splice.py).

Every request is authenticated and authorized (auth.py: client certificate or
bearer token, then a SubjectAccessReview on nodes/proxy, nodes/log, nodes/stats or
nodes/metrics), unless the server is built without a `gate`, which only tests do.
Which runtime objects a pod and a container are, and where their logs are, the pod
workers say through `RunningPods` (kubelet/parts.py).
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from kubelite.kubelet import cri, stats
from kubelite.kubelet.parts import RunningPods
from kubelite.kubelet.server import container_logs, portforward, remotecommand, remotecommand_spdy
from kubelite.kubelet.server.auth import Gate
from kubelite.machinery import errors
from kubelite.machinery.httpstream.splice import splice_upgrade
from kubelite.machinery.httpstream.upgrade import hijack, wants_upgrade

log = logging.getLogger(__name__)

Obj = dict[str, Any]
# GET /stats/summary and /metrics/resource: the body and its content type
StatsHook = Callable[[], Awaitable[tuple[bytes, str]]]
# not passed on to a runtime's streaming server: hop-by-hop headers and the caller's
# credentials (the kubelet has authorized the request; the URL is the session's key)
_NOT_PROXIED = frozenset({"host", "authorization", "keep-alive", "proxy-connection", "te",
                          "trailer", "transfer-encoding", "content-length"})


class KubeletServer:
    def __init__(self, node_name: str, runtime: cri.RuntimeService, pods: RunningPods, *,
                 gate: Gate | None, ssl_context: ssl.SSLContext | None,
                 host: str = "0.0.0.0", port: int = 10250,
                 stats: StatsHook | None = None, resource_metrics: StatsHook | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """`gate`: authentication and authorization against the API server (None: every
        caller may do everything; tests only). `ssl_context`: the serving certificate,
        set to ask for client certificates and verify them against the cluster's
        client CA (ssl.CERT_OPTIONAL), as upstream's --client-ca-file. `stats`,
        `resource_metrics`: what /stats/summary and /metrics/resource answer; by
        default a reading of the runtime and the host each time (kubelet/stats.py)."""
        self.node_name = node_name
        self.runtime = runtime
        self.pods = pods
        self.gate = gate
        self.ssl_context = ssl_context
        self.host = host
        self.port = port
        default_summary, default_metrics = usage_hooks(runtime, node_name)
        self.stats = stats or default_summary
        self.resource_metrics = resource_metrics or default_metrics
        self.clock = clock
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        add = app.router.add_route
        add("GET", "/healthz", self._healthz)
        add("GET", "/pods", self._pods)
        add("GET", "/containerLogs/{ns}/{pod}/{container}", self._logs)
        for verb in ("exec", "attach"):
            handler = self._exec if verb == "exec" else self._attach
            for method in ("GET", "POST"):
                add(method, f"/{verb}/{{ns}}/{{pod}}/{{container}}", handler)
                add(method, f"/{verb}/{{ns}}/{{pod}}/{{uid}}/{{container}}", handler)
        add("POST", "/run/{ns}/{pod}/{container}", self._run)
        add("POST", "/run/{ns}/{pod}/{uid}/{container}", self._run)
        for method in ("GET", "POST"):
            add(method, "/portForward/{ns}/{pod}", self._port_forward)
            add(method, "/portForward/{ns}/{pod}/{uid}", self._port_forward)
        add("GET", "/stats/summary", self._hook(lambda: self.stats))
        add("GET", "/metrics/resource", self._hook(lambda: self.resource_metrics))
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context,
                           reuse_address=True)
        await site.start()
        if self.port == 0:
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("kubelet serves https://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await asyncio.shield(self._runner.cleanup())
            self._runner = None

    # ---------------------------------------------------------------- the gate
    @web.middleware
    async def _guard(self, request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                     ) -> web.StreamResponse:
        if self.gate is None:
            return await handler(request)
        user = await self.gate.authenticate(request)
        if user is None:
            return web.Response(status=401, text="Unauthorized")
        allowed, reason = await self.gate.authorize(user, request.method, request.path)
        if not allowed:
            return web.Response(status=403, text=reason)
        return await handler(request)

    # ------------------------------------------------------------------ simple
    async def _healthz(self, request: web.Request) -> web.StreamResponse:
        return web.Response(text="ok")

    async def _pods(self, request: web.Request) -> web.StreamResponse:
        body = {"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": self.pods.pods()}
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    def _hook(self, which: Callable[[], StatsHook | None]
              ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            hook = which()
            if hook is None:
                raise web.HTTPNotFound(text="not served by this kubelet yet\n")
            body, content_type = await hook()
            return web.Response(body=body, headers={"Content-Type": content_type})
        return serve

    # -------------------------------------------------------------------- logs
    def _pod(self, ns: str, name: str) -> Obj | None:
        for pod in self.pods.pods():
            meta = pod.get("metadata") or {}
            if meta.get("namespace") == ns and meta.get("name") == name:
                return pod
        return None

    async def _logs(self, request: web.Request) -> web.StreamResponse:
        ns, name = request.match_info["ns"], request.match_info["pod"]
        return await container_logs.serve(request, self.runtime, self.pods, self._pod(ns, name),
                                          self.clock())

    # ------------------------------------------------------------ exec, attach
    def _container(self, request: web.Request) -> str:
        ns, name, container = (request.match_info[k] for k in ("ns", "pod", "container"))
        uid = request.match_info.get("uid", "")
        container_id = self.pods.container_id(ns, name, container, uid)
        if container_id is None:
            raise web.HTTPNotFound(text=f'container "{container}" in pod "{name}" not found')
        return container_id

    async def _exec(self, request: web.Request) -> web.StreamResponse:
        return await self._remote_command(request, attach=False)

    async def _attach(self, request: web.Request) -> web.StreamResponse:
        return await self._remote_command(request, attach=True)

    async def _remote_command(self, request: web.Request, *, attach: bool) -> web.StreamResponse:
        options = remotecommand.StreamOptions.parse(request.query)
        if (problem := options.problem()) is not None:
            raise web.HTTPBadRequest(text=problem)
        if not attach and not options.command:
            raise web.HTTPBadRequest(text="you must specify a command")
        container_id = self._container(request)
        if isinstance(self.runtime, cri.StreamingURLs):
            streaming = self.runtime
            if attach:
                return await self._redirect(request, lambda: streaming.attach_url(
                    container_id, tty=options.tty, stdin=options.stdin,
                    stdout=options.stdout, stderr=options.stderr))
            return await self._redirect(request, lambda: streaming.exec_url(
                container_id, options.command, tty=options.tty, stdin=options.stdin,
                stdout=options.stdout, stderr=options.stderr))

        async def start() -> cri.StreamingProcess:
            if attach:
                return await self.runtime.attach(container_id, tty=options.tty,
                                                 stdin=options.stdin)
            return await self.runtime.exec(container_id, options.command, tty=options.tty,
                                           stdin=options.stdin)

        if wants_upgrade(request, "spdy/3.1"):
            protocol = remotecommand_spdy.negotiate(request)
            if protocol is None:
                raise web.HTTPForbidden(text="unable to upgrade: no common protocol; the "
                                        f"kubelet speaks {list(remotecommand_spdy.PROTOCOLS)}")
            return await remotecommand_spdy.serve(request, protocol, options, start,
                                                  detach_on_leave=attach)
        if not wants_upgrade(request, "websocket"):
            raise web.HTTPBadRequest(text="exec and attach need an upgrade to WebSocket "
                                     "or SPDY/3.1")
        socket = await remotecommand.accept(request)
        try:
            process = await start()
        except cri.CRIError as exc:
            await socket.send_status(remotecommand.failure_status(str(exc)))
            await socket.ws.close()
            return socket.ws
        await remotecommand.stream_process(socket, process, options, detach_on_leave=attach)
        return socket.ws

    async def _run(self, request: web.Request) -> web.StreamResponse:
        container_id = self._container(request)
        command = request.query.getall("cmd", ())
        if not command:
            raise web.HTTPBadRequest(text="you must specify a command")
        try:
            result = await self.runtime.exec_sync(container_id, list(command), timeout=0)
        except cri.CRIError as exc:
            raise web.HTTPInternalServerError(text=str(exc)) from None
        return web.Response(body=result.stdout + result.stderr, content_type="text/plain")

    # ------------------------------------------------------------ port-forward
    async def _port_forward(self, request: web.Request) -> web.StreamResponse:
        ns, name = request.match_info["ns"], request.match_info["pod"]
        uid = request.match_info.get("uid", "")
        sandbox_id = self.pods.sandbox_id(ns, name, uid)
        if sandbox_id is None:
            raise web.HTTPNotFound(text=f'pod "{name}" in namespace "{ns}" not found')
        describe = f"{sandbox_id}, uid {uid}"
        if isinstance(self.runtime, cri.StreamingURLs):
            streaming = self.runtime
            try:
                ports = [int(p) for h in request.query.getall("port", ())
                         for p in h.split(",") if p.strip()]
            except ValueError:
                raise web.HTTPBadRequest(text="port must be a number") from None
            return await self._redirect(
                request, lambda: streaming.port_forward_url(sandbox_id, ports))

        async def dial(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await self.runtime.port_forward(sandbox_id, port)

        if wants_upgrade(request, "websocket"):
            return await portforward.serve_websocket(request, dial, describe)
        if not wants_upgrade(request, "spdy/3.1"):
            raise web.HTTPBadRequest(text="port-forward needs an upgrade to SPDY/3.1 or "
                                     "WebSocket")
        asked = [p.strip() for h in request.headers.getall("X-Stream-Protocol-Version", ())
                 for p in h.split(",")]
        if portforward.PROTOCOL not in asked:
            raise web.HTTPForbidden(text=f"unable to upgrade: no common protocol among "
                                    f"{asked} and [{portforward.PROTOCOL}]")
        connection = await hijack(request, {
            "Connection": "Upgrade", "Upgrade": "SPDY/3.1",
            "X-Stream-Protocol-Version": portforward.PROTOCOL})
        await portforward.serve_spdy(connection, dial, describe)
        return connection.response


    async def _redirect(self, request: web.Request,
                        session: Callable[[], Awaitable[str]]) -> web.StreamResponse:
        """The stream a runtime serves itself (a CRI runtime's streaming server): the
        runtime prepares the session and answers its URL, and the client's upgrade
        request goes there as it came (upstream's proxyStream)."""
        try:
            url = await session()
        except cri.NotFound as exc:
            raise web.HTTPNotFound(text=str(exc)) from None
        except cri.CRIError as exc:
            raise web.HTTPInternalServerError(text=str(exc)) from None
        headers = [(k, v) for k, v in request.headers.items()
                   if k.lower() not in _NOT_PROXIED]
        try:
            return await splice_upgrade(request, url, headers, peer="the runtime's streaming server")
        except errors.StatusError as exc:
            raise web.HTTPServiceUnavailable(text=str(exc)) from None


def usage_hooks(runtime: cri.RuntimeService, node_name: str) -> tuple[StatsHook, StatsHook]:
    """/stats/summary and /metrics/resource from one reading of the runtime each."""
    summary = stats.Summary(node_name, datetime.datetime.now(datetime.UTC))

    async def summary_body() -> tuple[bytes, str]:
        return orjson.dumps(summary.render(await stats.read(runtime))), "application/json"

    async def metrics_body() -> tuple[bytes, str]:
        return (stats.resource_metrics(await stats.read(runtime)).encode(),
                "text/plain; version=0.0.4; charset=utf-8")

    return summary_body, metrics_body
