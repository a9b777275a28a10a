"""metrics.k8s.io/v1beta1: NodeMetrics and PodMetrics, read-only (metrics-server's
pkg/api: node.go, pod.go, table.go).

    GET /apis/metrics.k8s.io/v1beta1/nodes[/<name>]
    GET /apis/metrics.k8s.io/v1beta1/[namespaces/<ns>/]pods[/<name>]

Lists take `labelSelector` (matched against the Node's or Pod's labels, read from
informers, so a list names only objects that exist) and `fieldSelector` on
metadata.name and metadata.namespace. An object without usage yet (fewer than two
scrapes) is left out of lists and NotFound by name, with upstream's wording
(`podmetrics.metrics.k8s.io "ns/name" not found`). CPU is given in nanocores and
memory in bytes, as Quantities in canonical form (`250m`, `64Mi`, `123456n`).
`Accept: ...;as=Table` gets metrics-server's table (Name, CPU, Memory, Window).

The handler is an HTTP server of its own, reached by the API server as an aggregated
API (kubelite/apiserver/aggregation.py): it answers its own Statuses, and any verb but
get and list is 405.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from kubelite.api.catalogue import ResourceSpec
from kubelite.api.protobuf.wellknown import format_duration
from kubelite.machinery import errors, fields, labels
from kubelite.machinery.quantity import Format, Quantity, parse_quantity
from kubelite.machinery.timestamps import format_time
from kubelite.metrics.storage import MetricsStorage, Usage

Obj = dict[str, Any]

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
READ_ONLY = ("get", "list")
NODE_METRICS = ResourceSpec(GROUP, (VERSION,), "NodeMetrics", "nodes", namespaced=False,
                            verbs=READ_ONLY)
POD_METRICS = ResourceSpec(GROUP, (VERSION,), "PodMetrics", "pods", verbs=READ_ONLY)

Lister = Callable[[], list[Obj]]
NamespacedLister = Callable[[str | None], list[Obj]]  # None: every namespace


def usage_quantities(nanocores: int, memory_bytes: int) -> Obj:
    return {"cpu": Quantity(nanocores, -9, Format.DECIMAL_SI).canonical(),
            "memory": Quantity(memory_bytes, 0, Format.BINARY_SI).canonical()}


def _stamp(seconds: float) -> str:
    return format_time(datetime.datetime.fromtimestamp(int(seconds), datetime.UTC))


def _window(seconds: float) -> str:
    return format_duration(round(seconds * 1e9))


def _metadata(obj: Obj, now: str) -> Obj:
    meta = obj.get("metadata") or {}
    out: Obj = {"name": meta.get("name", "")}
    if meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    out["creationTimestamp"] = now
    if meta.get("labels"):
        out["labels"] = meta["labels"]
    return out


def node_metrics(node: Obj, usage: Usage, now: str) -> Obj:
    return {"kind": "NodeMetrics", "apiVersion": API_VERSION,
            "metadata": _metadata(node, now), "timestamp": _stamp(usage.timestamp),
            "window": _window(usage.window),
            "usage": usage_quantities(usage.nanocores, usage.memory_bytes)}


def _status_response(err: errors.StatusError) -> web.Response:
    return web.Response(status=err.code, body=orjson.dumps(err.to_status()),
                        content_type="application/json")


class MetricsAPI:
    """What the API server needs of an aggregated group (aggregation.AggregatedAPI)."""

    group = GROUP
    version = VERSION
    resources = (NODE_METRICS, POD_METRICS)
    # metrics-server's APIService says 100 and 100
    group_priority_minimum = 100
    version_priority = 100

    def __init__(self, storage: MetricsStorage, *, nodes: Lister, pods: NamespacedLister,
                 clock: Callable[[], datetime.datetime]) -> None:
        self.storage = storage
        self.nodes = nodes
        self.pods = pods
        self.clock = clock

    async def serve(self, request: web.Request) -> web.StreamResponse:
        try:
            return self._serve(request)
        except errors.StatusError as err:
            return _status_response(err)

    def _serve(self, request: web.Request) -> web.Response:
        parts = [p for p in request.path.split("/") if p][3:]  # after apis/group/version
        namespace = ""
        if len(parts) >= 3 and parts[0] == "namespaces":
            namespace, parts = parts[1], parts[2:]
        if not parts or len(parts) > 2 or parts[0] not in ("nodes", "pods") or (
                parts[0] == "nodes" and namespace):
            raise errors.no_such_resource()
        if request.method not in ("GET", "HEAD") or "watch" in request.query and \
                request.query["watch"] not in ("", "false", "0"):
            raise errors.method_not_allowed()
        resource, name = parts[0], parts[1] if len(parts) == 2 else ""
        now = format_time(self.clock())
        if resource == "nodes":
            items = self._node_items(request, name, now)
            spec = NODE_METRICS
        else:
            items = self._pod_items(request, namespace, name, now)
            spec = POD_METRICS
        if name:
            if not items:
                shown = f"{namespace}/{name}" if namespace else name
                raise errors.NotFound(f'{spec.kind.lower()}.{GROUP} "{shown}" not found',
                                      group=GROUP, kind=spec.plural, name=name)
            body: Obj = items[0]
        else:
            body = {"kind": spec.list_kind, "apiVersion": API_VERSION, "metadata": {},
                    "items": items}
        if "as=Table" in request.headers.get("Accept", ""):
            body = _table(items)
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    def _selected(self, request: web.Request, objects: list[Obj], name: str) -> list[Obj]:
        # both raise upstream's BadRequest for a malformed selector
        label_selector = labels.parse(request.query.get("labelSelector", ""))
        field_selector = fields.parse(request.query.get("fieldSelector", ""))
        field_selector.check_fields(("metadata.name", "metadata.namespace"))
        out = []
        for obj in objects:
            meta = obj.get("metadata") or {}
            if name and meta.get("name") != name:
                continue
            if not label_selector.matches(meta.get("labels") or {}):
                continue
            if not field_selector.matches({"metadata.name": meta.get("name", ""),
                                           "metadata.namespace": meta.get("namespace", "")}):
                continue
            out.append(obj)
        return sorted(out, key=lambda o: (o["metadata"].get("namespace", ""),
                                          o["metadata"]["name"]))

    def _node_items(self, request: web.Request, name: str, now: str) -> list[Obj]:
        items = []
        for node in self._selected(request, self.nodes(), name):
            usage = self.storage.node_usage(node["metadata"]["name"])
            if usage is not None:
                items.append(node_metrics(node, usage, now))
        return items

    def _pod_items(self, request: web.Request, namespace: str, name: str,
                   now: str) -> list[Obj]:
        items = []
        for pod in self._selected(request, self.pods(namespace or None), name):
            meta = pod["metadata"]
            usage = self.storage.pod_usage(meta.get("namespace", ""), meta["name"])
            if usage is None:
                continue
            items.append({
                "kind": "PodMetrics", "apiVersion": API_VERSION,
                "metadata": _metadata(pod, now), "timestamp": _stamp(usage.timestamp),
                "window": _window(usage.window),
                "containers": [{"name": container,
                                "usage": usage_quantities(u.nanocores, u.memory_bytes)}
                               for container, u in usage.containers]})
        return items


_COLUMNS = [
    {"name": "Name", "type": "string", "format": "name", "priority": 0,
     "description": "Name must be unique within a namespace."},
    {"name": "CPU", "type": "string", "format": "", "priority": 0,
     "description": "CPU usage"},
    {"name": "Memory", "type": "string", "format": "", "priority": 0,
     "description": "Memory usage"},
    {"name": "Window", "type": "string", "format": "", "priority": 0,
     "description": "Time window over which usage was measured"},
]


def _table(items: list[Obj]) -> Obj:
    rows = []
    for item in items:
        if "usage" in item:
            cpu, memory = item["usage"]["cpu"], item["usage"]["memory"]
        else:  # a pod: the sum of its containers
            nanocores = sum(parse_quantity(c["usage"]["cpu"]).scaled_value(-9)
                            for c in item["containers"])
            memory_bytes = sum(parse_quantity(c["usage"]["memory"]).value()
                               for c in item["containers"])
            usage = usage_quantities(nanocores, memory_bytes)
            cpu, memory = usage["cpu"], usage["memory"]
        rows.append({"cells": [item["metadata"]["name"], cpu, memory, item["window"]],
                     "object": {"kind": "PartialObjectMetadata",
                                "apiVersion": "meta.k8s.io/v1",
                                "metadata": item["metadata"]}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
            "columnDefinitions": _COLUMNS, "rows": rows}
