"""postStart and preStop hooks: parts.Hooks, as upstream's lifecycle handler runner
(pkg/kubelet/lifecycle/handlers.go).

- exec runs the command in the container through the runtime's exec_sync, without a
  timeout of its own (the pod worker bounds a preStop hook by the grace period by
  cancelling it); a non-zero exit fails it.
- httpGet sends one GET (host: the pod's IP unless given; `User-Agent:
  kube-lifecycle/<version>`); only a connection error fails it, whatever the status.
  HTTPS to a server that speaks plain HTTP is tried again over HTTP, with a
  LifecycleHTTPFallback event, as upstream.
- sleep waits its seconds (PodLifecycleSleepAction).
- tcpSocket, deprecated in the API, is not a handler upstream runs: it fails as
  upstream's does, `Cannot run handler: invalid handler: ...`.

`run` answers None on success, else the message of the FailedPostStartHook /
FailedPreStopHook event, in upstream's words. `time_scale` multiplies sleep seconds
(tests set it small).
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, Protocol

import aiohttp
import orjson

from kubelite.kubelet import cri
from kubelite.kubelet.prober.http_get import (
    ProbeSetupError,
    Request,
    build_request,
    describe_error,
    fetch,
)
from kubelite.machinery.validation import go_quote

Obj = dict[str, Any]

USER_AGENT = "kube-lifecycle/1.35"


class EventSink(Protocol):
    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None: ...


def format_pod(pod: Obj) -> str:
    """upstream's format.Pod: name_namespace(uid)."""
    meta = pod.get("metadata") or {}
    return f"{meta.get('name', '')}_{meta.get('namespace', '')}({meta.get('uid', '')})"


def _go_list(values: list[str]) -> str:
    return "[" + " ".join(values) + "]"


class LifecycleHooks:
    def __init__(self, runtime: cri.RuntimeService, *, events: EventSink | None = None,
                 time_scale: float = 1.0) -> None:
        self.runtime = runtime
        self._events = events
        self.time_scale = time_scale

    async def run(self, pod: Obj, container: Obj, container_id: str, pod_ip: str,
                  handler: Obj) -> str | None:
        name = str(container.get("name") or "")
        where = f"for Container {go_quote(name)} in Pod {go_quote(format_pod(pod))}"
        if isinstance(handler.get("exec"), dict):
            command = [str(c) for c in handler["exec"].get("command") or []]
            error, output = await self._exec(container_id, command)
            if error is None:
                return None
            return (f"Exec lifecycle hook ({_go_list(command)}) {where} failed - error: "
                    f"{error}, message: {go_quote(output)}")
        if isinstance(handler.get("httpGet"), dict):
            action = handler["httpGet"]
            error = await self._http(pod, container, pod_ip, action)
            if error is None:
                return None
            return f"HTTP lifecycle hook ({action.get('path', '')}) {where} failed - error: {error}"
        if isinstance(handler.get("sleep"), dict):
            seconds = handler["sleep"].get("seconds")
            seconds = seconds if isinstance(seconds, int) and not isinstance(seconds, bool) else 0
            await asyncio.sleep(max(0, seconds) * self.time_scale)
            return None
        description = orjson.dumps(handler, option=orjson.OPT_SORT_KEYS).decode()
        return f"Cannot run handler: invalid handler: {description}"

    async def _exec(self, container_id: str, command: list[str]) -> tuple[str | None, str]:
        try:
            result = await self.runtime.exec_sync(container_id, command, 0)
        except cri.CRIError as e:
            return str(e), ""
        output = (result.stdout + result.stderr).decode(errors="replace")
        if result.exit_code != 0:
            return (f"command '{' '.join(command)}' exited with {result.exit_code}: "
                    f"{result.stderr.decode(errors='replace')}"), output
        return None, output

    async def _http(self, pod: Obj, container: Obj, pod_ip: str, action: Obj) -> str | None:
        if not action.get("host") and not pod_ip:
            return "failed to find networking container: the pod has no IP"
        try:
            request = build_request(action, container, pod_ip, user_agent=USER_AGENT)
        except ProbeSetupError as e:
            return str(e)
        try:
            await fetch(request, None)
            return None
        except (aiohttp.ClientSSLError, ssl.SSLError, aiohttp.ClientOSError) as e:
            if not request.url.startswith("https://") or not _speaks_plain_http(e):
                return describe_error(request.url, e)
            return await self._fall_back_to_http(pod, request, e)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, RuntimeError) as e:
            return str(e) if isinstance(e, RuntimeError) else describe_error(request.url, e)

    async def _fall_back_to_http(self, pod: Obj, request: Request,
                                 original: BaseException) -> str | None:
        plain = Request("http://" + request.url.removeprefix("https://"),
                        {k: v for k, v in request.headers.items() if k.lower() != "authorization"})
        try:
            await fetch(plain, None)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, RuntimeError):
            return describe_error(request.url, original)
        if self._events is not None:
            host = request.url.removeprefix("https://").split("/", 1)[0]
            self._events.event(pod, "Warning", "LifecycleHTTPFallback",
                               f"request to HTTPS lifecycle hook {host} got HTTP response, "
                               "retry with HTTP succeeded")
        return None


def _speaks_plain_http(error: BaseException) -> bool:
    """A TLS handshake answered by an HTTP server: OpenSSL reads its reply as a bad
    record (`wrong version number`, `record layer failure`, `http request`)."""
    text = str(error).lower()
    return any(sign in text for sign in ("wrong version number", "record layer failure",
                                          "http request", "packet length too long"))
