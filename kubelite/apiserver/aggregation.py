"""Aggregated API groups served in-process, as kube-aggregator serves an APIService.

Upstream, a group like metrics.k8s.io is served by another server (metrics-server) that
kube-apiserver fronts: an APIService object `v1beta1.metrics.k8s.io` names it, the
aggregator merges its resources into discovery and proxies every request under
`/apis/metrics.k8s.io/v1beta1/` to it. kubelite does the same in one process: a
component hands the server an `AggregatedAPI` (its group-version, the resources it
serves for discovery, and an HTTP handler), and the server

- lists those resources in every discovery document, after the built-in groups;
- passes each request under the group-version to the handler unchanged (the handler
  parses its own paths and answers with its own Statuses, as a separate server would);
- keeps an APIService object for it, `spec.service` empty ("local", reached without a
  network hop) and status Available, so `kubectl get apiservices` shows it as on any
  cluster.

The handler never sees the store or the registry: it is reached only through HTTP, so
the same component could sit behind a real kube-aggregator unchanged.
"""

from __future__ import annotations

from typing import Any, Protocol

from aiohttp import web

from kubelite.api.catalogue import ResourceSpec
from kubelite.machinery.timestamps import now_rfc3339

APIREGISTRATION_GROUP = "apiregistration.k8s.io"


class AggregatedAPI(Protocol):
    """One group-version served by a component rather than by the registry."""

    @property
    def group(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def resources(self) -> tuple[ResourceSpec, ...]: ...

    @property
    def group_priority_minimum(self) -> int: ...

    @property
    def version_priority(self) -> int: ...

    async def serve(self, request: web.Request) -> web.StreamResponse: ...


def apiservice_name(api: AggregatedAPI) -> str:
    """`v1beta1.metrics.k8s.io`: upstream's name for a group-version's APIService."""
    return f"{api.version}.{api.group}"


def apiservice_object(api: AggregatedAPI) -> dict[str, Any]:
    """The APIService of an in-process group: no service (local), always available, as
    upstream reports a local APIService (apiserver/handler_apis.go's availability)."""
    return {
        "apiVersion": f"{APIREGISTRATION_GROUP}/v1", "kind": "APIService",
        "metadata": {"name": apiservice_name(api),
                     "labels": {"kube-aggregator.kubernetes.io/automanaged": "onstart"}},
        "spec": {"group": api.group, "version": api.version,
                 "groupPriorityMinimum": api.group_priority_minimum,
                 "versionPriority": api.version_priority},
        "status": {"conditions": [{
            "type": "Available", "status": "True", "lastTransitionTime": now_rfc3339(),
            "reason": "Local", "message": "Local APIServices are always available"}]},
    }


class AggregatedAPIs:
    """The group-versions handed over to components, looked up per request."""

    def __init__(self) -> None:
        self._by_group_version: dict[tuple[str, str], AggregatedAPI] = {}

    def add(self, api: AggregatedAPI) -> None:
        key = (api.group, api.version)
        if key in self._by_group_version:
            raise ValueError(f"{api.group}/{api.version} is already served")
        self._by_group_version[key] = api

    def __iter__(self) -> Any:
        return iter(self._by_group_version.values())

    def lookup(self, group: str, version: str) -> AggregatedAPI | None:
        return self._by_group_version.get((group, version))

    def specs(self) -> list[ResourceSpec]:
        """Their resources for discovery, lowest-priority groups last."""
        apis = sorted(self._by_group_version.values(),
                      key=lambda a: (-a.group_priority_minimum, a.group, -a.version_priority))
        return [spec for api in apis for spec in api.resources]
