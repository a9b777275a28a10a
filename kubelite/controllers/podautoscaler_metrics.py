"""What the HPA loop reads besides its informers: resource metrics from metrics.k8s.io and
the scale target's /scale (upstream's podautoscaler/metrics/client.go and the scale
client's RESTMapper lookups).

`resource_metrics` lists PodMetrics by label selector and sums each pod's containers
(or takes the one container named) in milli-units; a pod that lacks the resource in a
container it reports is left out, as upstream leaves it out. `ScaleTargets` finds the
resource behind a scaleTargetRef (apiVersion + kind): the catalogue for built-ins,
discovery of the group-version for custom resources (cached per group-version), and
only a resource that serves /scale will do.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.api.catalogue import RESOURCES
from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.controllers.podautoscaler_replicas import PodMetric
from kubelite.machinery import errors
from kubelite.machinery.quantity import parse_quantity
from kubelite.machinery.timestamps import parse_rfc3339

Obj = dict[str, Any]

POD_METRICS = Resource("metrics.k8s.io", "v1beta1", "pods", True, "PodMetrics")


class MetricsUnavailable(Exception):
    pass


def _window_seconds(text: str) -> float:
    from kubelite.api.protobuf.wellknown import parse_duration

    try:
        return parse_duration(text) / 1e9
    except ValueError:
        return 0.0


def pod_metrics_from(items: list[Obj], resource: str, container: str = "") -> dict[str, PodMetric]:
    """Per pod name: the resource's usage in milli-units (GetResourceMetric)."""
    out: dict[str, PodMetric] = {}
    for item in items:
        total, complete, found = 0, True, False
        for c in item.get("containers") or ():
            if container and c.get("name") != container:
                continue
            usage = (c.get("usage") or {}).get(resource)
            if usage is None:
                complete = False
                break
            total += parse_quantity(str(usage)).milli_value()
            found = True
        if not complete or (container and not found):
            continue
        stamp = parse_rfc3339(str(item.get("timestamp") or "")) or \
            datetime.datetime.now(datetime.UTC)
        out[str(item["metadata"]["name"])] = PodMetric(
            total, stamp, _window_seconds(str(item.get("window") or "0s")))
    return out


async def resource_metrics(client: Client, namespace: str, selector: str, resource: str,
                           container: str = "") -> dict[str, PodMetric]:
    """The pods' usage, MetricsUnavailable with upstream's words when there is none."""
    try:
        listed = await client.list(POD_METRICS, namespace=namespace, label_selector=selector)
    except errors.StatusError as err:
        raise MetricsUnavailable(f"unable to get metrics for resource {resource}: unable to "
                                 f"fetch metrics from resource metrics API: {err}") from None
    items = listed.get("items") or []
    if not items:
        raise MetricsUnavailable(f"unable to get metrics for resource {resource}: no metrics "
                                 f"returned from resource metrics API")
    metrics = pod_metrics_from(items, resource, container)
    if not metrics and container:
        raise MetricsUnavailable(f"unable to get metrics for resource {resource}: container "
                                 f"{container} not present in any pod's metrics")
    return metrics


class ScaleTargets:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._discovered: dict[str, list[Obj]] = {}

    async def resource(self, api_version: str, kind: str) -> Resource:
        group, _, version = api_version.rpartition("/")
        if not version:
            raise LookupError(f"no scaleTargetRef.apiVersion for kind {kind}")
        for spec in RESOURCES:
            if spec.group == group and spec.kind == kind and version in spec.versions:
                if "scale" not in spec.subresources:
                    raise LookupError(f"{kind} in {api_version} has no scale subresource")
                return Resource(group, version, spec.plural, spec.namespaced, kind)
        listed = self._discovered.get(api_version)
        if listed is None:
            path = f"/apis/{api_version}" if group else f"/api/{version}"
            try:
                doc = await self.client.request("GET", path)
            except errors.NotFound:
                raise LookupError(f"no matches for kind \"{kind}\" in group \"{group}\"") \
                    from None
            listed = list(doc.get("resources") or [])
            self._discovered[api_version] = listed
        plurals = {r.get("name") for r in listed}
        for entry in listed:
            name = str(entry.get("name") or "")
            if entry.get("kind") == kind and "/" not in name:
                if f"{name}/scale" not in plurals:
                    raise LookupError(f"{kind} in {api_version} has no scale subresource")
                return Resource(group, version, name, bool(entry.get("namespaced")), kind)
        self._discovered.pop(api_version, None)  # a CRD may come later: ask again then
        raise LookupError(f"no matches for kind \"{kind}\" in group \"{group}\"")
