"""GET /containerLogs/{ns}/{pod}/{container}: a container's log as `kubectl logs` asks
for it (upstream's getContainerLogs and validateContainerLogStatus).

The query is PodLogOptions as the API server passes it on (tailLines, sinceSeconds or
sinceTime, limitBytes, timestamps, follow, previous); the file is the one the pod
workers name (RunningPods.log_path), read by logs/reader.py. `follow` goes on until
the container stops running or the client goes away; `previous` never follows.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubelite.kubelet import cri
from kubelite.kubelet.logs.reader import LogOptions, follow_logs, parse_timestamp
from kubelite.kubelet.parts import RunningPods

Obj = dict[str, Any]


async def serve(request: web.Request, runtime: cri.RuntimeService, pods: RunningPods,
                pod: Obj | None, now: float) -> web.StreamResponse:
    ns, name, container = (request.match_info[k] for k in ("ns", "pod", "container"))
    try:
        options = _log_options(request.query, now)
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    previous = _flag(request.query, "previous")
    if pod is None:
        raise web.HTTPNotFound(text=f'pod "{name}" in namespace "{ns}" not found')
    path = pods.log_path(ns, name, container, previous=previous)
    if path is None:
        raise web.HTTPBadRequest(text=_why_no_log(pod, container, previous))
    container_id = pods.container_id(ns, name, container)

    async def running() -> bool:
        if previous or container_id is None:
            return False
        try:
            status = await runtime.container_status(container_id)
        except cri.CRIError:
            return False
        return status.state is cri.ContainerState.RUNNING

    response = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await response.prepare(request)
    try:
        async for chunk in follow_logs(path, options, running):
            await response.write(chunk)
    except (ConnectionError, RuntimeError):
        return response  # the client went away
    await response.write_eof()
    return response


def _flag(query: Any, name: str) -> bool:
    return str(query.get(name, "")).lower() in ("1", "true")


def _log_options(query: Any, now: float) -> LogOptions:
    def number(name: str) -> int | None:
        text = query.get(name)
        if text in (None, ""):
            return None
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{name}: invalid value {text!r}") from None

    since_ns = None
    if (seconds := number("sinceSeconds")) is not None:
        since_ns = int((now - seconds) * 1e9)
    elif query.get("sinceTime"):
        since_ns = parse_timestamp(query["sinceTime"])
    return LogOptions(tail_lines=number("tailLines"), since_ns=since_ns,
                      limit_bytes=number("limitBytes"), timestamps=_flag(query, "timestamps"),
                      follow=_flag(query, "follow") and not _flag(query, "previous"))


def _why_no_log(pod: Obj, container: str, previous: bool) -> str:
    """Upstream's validateContainerLogStatus messages."""
    name = (pod.get("metadata") or {}).get("name", "")
    status = pod.get("status") or {}
    statuses = [*(status.get("initContainerStatuses") or ()),
                *(status.get("containerStatuses") or ()),
                *(status.get("ephemeralContainerStatuses") or ())]
    found = next((s for s in statuses if s.get("name") == container), None)
    if found is None:
        return f'container "{container}" in pod "{name}" is not available'
    if previous:
        return f'previous terminated container "{container}" in pod "{name}" not found'
    waiting = (found.get("state") or {}).get("waiting")
    if waiting is not None:
        return (f'container "{container}" in pod "{name}" is waiting to start: '
                f'{waiting.get("reason", "")}')
    return f'container "{container}" in pod "{name}" is not available'

