"""The subresources the kubelet serves: pods/log, pods/exec, pods/attach,
pods/portforward and nodes/proxy (upstream's pkg/registry/core/pod/rest/log.go,
subresources.go and pkg/registry/core/node/rest/proxy.go).

The API server checks what it can itself (the options, the container name, that the
pod is on a node), finds the node's kubelet (api/kubelet_endpoint.py) and hands the
request on through kubelet_proxy.py: a log is streamed back as the kubelet writes
it; exec, attach and port-forward are upgrades spliced through to the kubelet.
Authorization happened before, on the request's own verb: `get` for pods/log,
`create` for the three connect subresources whichever method the client used
(routing.py), and the method's verb for nodes/proxy.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from kubelite.api.kubelet_endpoint import kubelet_url
from kubelite.apiserver.kubelet_proxy import KubeletTransport
from kubelite.apiserver.registry.store import Store
from kubelite.apiserver.routing import RequestInfo
from kubelite.machinery import errors
from kubelite.machinery.timestamps import parse_rfc3339

Obj = dict[str, Any]
# PodExecOptions' fields and the names the kubelet reads them under (corev1.ExecStdinParam, ...)
STREAM_PARAMS = (("stdin", "input"), ("stdout", "output"), ("stderr", "error"), ("tty", "tty"))


@dataclass(frozen=True)
class Kubelets:
    pods: Store
    nodes: Store
    transport: KubeletTransport

    async def base_url(self, node_name: str) -> str:
        try:
            node = (await self.nodes.get("", node_name)).obj
        except errors.NotFound:
            raise errors.NotFound(f'nodes "{node_name}" not found', kind="nodes",
                                  name=node_name) from None
        url = kubelet_url(node)
        if url is None:
            raise errors.ServiceUnavailable(f"node {node_name} has no kubelet address")
        return url


Handler = Callable[[web.Request, RequestInfo, Kubelets], Awaitable[web.StreamResponse]]


def container_names(pod: Obj) -> list[str]:
    """Every container of the pod, as upstream's VisitContainers orders them."""
    spec = pod.get("spec") or {}
    return [c.get("name", "") for key in ("initContainers", "containers", "ephemeralContainers")
            for c in spec.get(key) or ()]


def choose_container(pod: Obj, container: str) -> str:
    """upstream's validateContainer."""
    name = (pod.get("metadata") or {}).get("name", "")
    containers = (pod.get("spec") or {}).get("containers") or []
    if not container:
        if len(containers) == 1:
            return str(containers[0].get("name", ""))
        if not containers:
            raise errors.BadRequest(f"a container name must be specified for pod {name}")
        raise errors.BadRequest(f"a container name must be specified for pod {name}, "
                                f"choose one of: [{' '.join(container_names(pod))}]")
    if container not in container_names(pod):
        raise errors.BadRequest(f"container {container} is not valid for pod {name}")
    return container


def log_query(query: Any, name: str) -> dict[str, str]:
    """PodLogOptions, validated as upstream's ValidatePodLogOptions, as the kubelet's
    query parameters."""
    causes: list[errors.Cause] = []
    params: dict[str, str] = {}

    def integer(field: str, minimum: int, message: str) -> None:
        text = query.get(field)
        if text in (None, ""):
            return
        try:
            value = int(text)
        except ValueError:
            raise errors.BadRequest(f'{field}: invalid value "{text}"') from None
        if value < minimum:
            causes.append(errors.Cause("FieldValueInvalid",
                                       f"Invalid value: {value}: {message}", field))
        params[field] = str(value)

    integer("tailLines", 0, "must be greater than or equal to 0")
    integer("limitBytes", 1, "must be greater than 0")
    integer("sinceSeconds", 1, "must be greater than 0")
    if since_time := query.get("sinceTime"):
        if parse_rfc3339(since_time) is None and not _rfc3339_with_fraction(since_time):
            raise errors.BadRequest(f'sinceTime: invalid value "{since_time}"')
        if "sinceSeconds" in params:
            causes.append(errors.Cause("FieldValueForbidden",
                                       "Forbidden: at most one of `sinceTime` or "
                                       "`sinceSeconds` may be specified", ""))
        params["sinceTime"] = since_time
    if causes:
        raise errors.invalid("", "PodLogOptions", name, causes)
    for flag in ("follow", "previous", "timestamps"):
        if str(query.get(flag, "")).lower() in ("1", "true"):
            params[flag] = "true"
    return params


def _rfc3339_with_fraction(text: str) -> bool:
    try:
        datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _waiting_message(pod: Obj, container: str, previous: bool) -> str | None:
    """The kubelet's validateContainerLogStatus for a container that never ran: it
    waits, with no earlier run to read."""
    status = pod.get("status") or {}
    statuses = [*(status.get("initContainerStatuses") or ()),
                *(status.get("containerStatuses") or ())]
    for entry in statuses:
        if entry.get("name") != container:
            continue
        waiting = (entry.get("state") or {}).get("waiting")
        ran_before = bool((entry.get("lastState") or {}).get("terminated"))
        if waiting is not None and not ran_before and not previous:
            return (f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting '
                    f'to start: {waiting.get("reason", "")}')
    return None


async def pod_log(request: web.Request, info: RequestInfo, kubelets: Kubelets
                  ) -> web.StreamResponse:
    params = log_query(request.query, info.name)
    pod = (await kubelets.pods.get(info.namespace, info.name)).obj
    container = choose_container(pod, request.query.get("container", ""))
    node = (pod.get("spec") or {}).get("nodeName")
    if not node:  # not scheduled: upstream answers an empty log
        return web.Response(text="", content_type="text/plain")
    if (waiting := _waiting_message(pod, container, "previous" in params)) is not None:
        raise errors.BadRequest(waiting)
    base = await kubelets.base_url(node)
    url = (f"{base}/containerLogs/{quote(info.namespace)}/{quote(info.name)}/"
           f"{quote(container)}" + (f"?{urlencode(params)}" if params else ""))
    return await kubelets.transport.stream_get(request, url)


async def pod_connect(request: web.Request, info: RequestInfo, kubelets: Kubelets
                      ) -> web.StreamResponse:
    """exec, attach, portforward."""
    pod = (await kubelets.pods.get(info.namespace, info.name)).obj
    query = request.query
    if info.subresource == "portforward":
        path = f"/portForward/{quote(info.namespace)}/{quote(info.name)}"
        params = [("port", p) for p in query.getall("ports", ())]
    else:
        container = choose_container(pod, query.get("container", ""))
        verb = "exec" if info.subresource == "exec" else "attach"
        path = f"/{verb}/{quote(info.namespace)}/{quote(info.name)}/{quote(container)}"
        params = [(kubelet_name, "1") for name, kubelet_name in STREAM_PARAMS
                  if str(query.get(name, "")).lower() in ("1", "true")]
        if verb == "exec":
            commands = query.getall("command", ())
            if not commands:
                raise errors.BadRequest("you must specify at least 1 command")
            params += [("command", c) for c in commands]
        if not any(k in ("input", "output", "error") for k, _ in params):
            raise errors.BadRequest("you must specify at least 1 of stdin, stdout, stderr")
    node = (pod.get("spec") or {}).get("nodeName")
    if not node:
        raise errors.BadRequest(f"pod {info.name} does not have a host assigned")
    if "upgrade" not in request.headers.get("Connection", "").lower():
        raise errors.BadRequest("Upgrade request required")
    url = f"{await kubelets.base_url(node)}{path}" + (f"?{urlencode(params)}" if params else "")
    return await kubelets.transport.upgrade(request, url)


async def node_proxy(request: web.Request, info: RequestInfo, kubelets: Kubelets
                     ) -> web.StreamResponse:
    """nodes/<name>/proxy/<path>: any request to the node's kubelet."""
    marker = f"/nodes/{info.name}/proxy"
    rest = request.raw_path.split("?", 1)[0]
    rest = rest[rest.find(marker) + len(marker):] or "/"
    url = f"{await kubelets.base_url(info.name)}{rest}"
    if request.query_string:
        url += f"?{request.query_string}"
    if "upgrade" in request.headers.get("Connection", "").lower():
        return await kubelets.transport.upgrade(request, url)
    return await kubelets.transport.proxy(request, url)


HANDLERS: dict[tuple[str, str], Handler] = {
    ("pods", "log"): pod_log,
    ("pods", "exec"): pod_connect,
    ("pods", "attach"): pod_connect,
    ("pods", "portforward"): pod_connect,
    ("nodes", "proxy"): node_proxy,
}
