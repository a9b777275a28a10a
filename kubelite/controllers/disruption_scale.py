"""How many pods a budget's pods' controllers want (upstream's getExpectedScale and its
podControllerFinders in pkg/controller/disruption/disruption.go).

For a percentage or maxUnavailable the denominator is the sum of spec.replicas over
the distinct controllers of the selected pods. A pod's controller ref is tried, in
upstream's order, as:

    ReplicationController (v1)                   its replicas, from the lister
    ReplicaSet owned by a Deployment (apps)       the Deployment's replicas
    ReplicaSet owned by no Deployment (apps)      its replicas
    StatefulSet (apps)                           its replicas
    anything else                                GET <resource>/<name>/scale, the
                                                 resource found by discovery (custom
                                                 resources with a scale subresource)

A controller whose uid differs from the ref's is not the pod's (deleted and
recreated): the ref finds nothing. A pod with no controller is "unmanaged": it adds
nothing (upstream records an UnmanagedPods warning and goes on). A pod whose controller
nothing finds, or whose resource has no scale subresource, makes the whole computation
fail (the caller's fail-safe). The workload kinds are read from listers; only the
scale fallback asks the server, as upstream does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubelite.client.informer import Informer
from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.controllers.disruption_rules import BudgetError
from kubelite.controllers.pods import Obj, controller_of, meta
from kubelite.machinery import errors


def _group_of(api_version: str) -> str:
    if api_version.count("/") > 1 or api_version.startswith("/") or not api_version:
        raise BudgetError(f"unexpected GroupVersion string: {api_version}")
    return api_version.rpartition("/")[0]


def _is(ref: Obj, kind: str, groups: tuple[str, ...]) -> bool:
    return ref.get("kind") == kind and _group_of(str(ref.get("apiVersion") or "")) in groups


def _same(obj: Obj, ref: Obj) -> bool:
    return bool(ref.get("uid")) and meta(obj).get("uid") == ref.get("uid")


def _replicas(obj: Obj) -> int:
    replicas = (obj.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


@dataclass(slots=True)
class ExpectedScale:
    total: int = 0
    unmanaged: list[str] = field(default_factory=list)


class ControllerScales:
    def __init__(self, client: Client, *, replication_controllers: Informer,
                 replica_sets: Informer, deployments: Informer,
                 stateful_sets: Informer) -> None:
        self.client = client
        self.rcs = replication_controllers
        self.rss = replica_sets
        self.deployments = deployments
        self.stateful_sets = stateful_sets

    async def expected_scale(self, pods: list[Obj]) -> ExpectedScale:
        scales: dict[str, int] = {}  # by controller uid
        out = ExpectedScale()
        for pod in pods:
            ref = controller_of(pod)
            if ref is None:
                out.unmanaged.append(str(meta(pod).get("name") or ""))
                continue
            if str(ref.get("uid") or "") in scales:
                continue
            namespace = str(meta(pod).get("namespace") or "")
            found = await self.scale_of(ref, namespace)
            if found is None:
                raise BudgetError(f"found no controllers for pod {meta(pod).get('name')!r}")
            uid, replicas = found
            scales[uid] = replicas
        out.total = sum(scales.values())
        return out

    async def scale_of(self, ref: Obj, namespace: str) -> tuple[str, int] | None:
        """(uid, replicas) of the controller `ref` names, or None when none is found:
        each finder in upstream's order, the scale subresource last."""
        for finder in (self._replication_controller, self._deployment, self._replica_set,
                       self._stateful_set):
            found = finder(ref, namespace)
            if found is not None:
                return found
        return await self._scale_subresource(ref, namespace)

    def _replication_controller(self, ref: Obj, namespace: str) -> tuple[str, int] | None:
        if not _is(ref, "ReplicationController", ("",)):
            return None
        rc = self.rcs.lister.get(namespace, str(ref.get("name") or ""))
        return (str(ref["uid"]), _replicas(rc)) if rc and _same(rc, ref) else None

    def _owned_replica_set(self, ref: Obj, namespace: str) -> Obj | None:
        if not _is(ref, "ReplicaSet", ("apps", "extensions")):
            return None
        rs = self.rss.lister.get(namespace, str(ref.get("name") or ""))
        return rs if rs is not None and _same(rs, ref) else None

    def _deployment(self, ref: Obj, namespace: str) -> tuple[str, int] | None:
        rs = self._owned_replica_set(ref, namespace)
        owner = controller_of(rs) if rs is not None else None
        if owner is None or not _is(owner, "Deployment", ("apps", "extensions")):
            return None
        deployment = self.deployments.lister.get(namespace, str(owner.get("name") or ""))
        if deployment is None or not _same(deployment, owner):
            return None
        return str(owner["uid"]), _replicas(deployment)

    def _replica_set(self, ref: Obj, namespace: str) -> tuple[str, int] | None:
        rs = self._owned_replica_set(ref, namespace)
        if rs is None or (controller_of(rs) or {}).get("kind") == "Deployment":
            return None  # a Deployment's: counted through it (or not at all)
        return str(ref["uid"]), _replicas(rs)

    def _stateful_set(self, ref: Obj, namespace: str) -> tuple[str, int] | None:
        if not _is(ref, "StatefulSet", ("apps",)):
            return None
        ss = self.stateful_sets.lister.get(namespace, str(ref.get("name") or ""))
        return (str(ref["uid"]), _replicas(ss)) if ss and _same(ss, ref) else None

    async def _scale_subresource(self, ref: Obj, namespace: str) -> tuple[str, int] | None:
        api_version, kind = str(ref.get("apiVersion") or ""), str(ref.get("kind") or "")
        resource, has_scale = await self._discover(api_version, kind)
        try:
            scale = await self.client.get(resource, str(ref.get("name") or ""),
                                          namespace=namespace, subresource="scale")
        except errors.NotFound:
            if not has_scale:
                raise BudgetError(f"{resource.group_resource} does not implement the scale "
                                  "subresource") from None
            return None
        if meta(scale).get("uid") != ref.get("uid"):
            return None
        return str(ref.get("uid")), int((scale.get("spec") or {}).get("replicas") or 0)

    async def _discover(self, api_version: str, kind: str) -> tuple[Resource, bool]:
        """The resource serving `kind` in `api_version`, and whether it has a scale
        subresource (upstream's RESTMapping and implementsScale)."""
        group = _group_of(api_version)
        version = api_version.rpartition("/")[2]
        path = f"/apis/{api_version}" if group else f"/api/{version}"
        try:
            listing = await self.client.request("GET", path)
        except errors.NotFound:
            raise BudgetError(f'no matches for kind "{kind}" in version "{api_version}"'
                              ) from None
        entries = [e for e in listing.get("resources") or () if isinstance(e, dict)]
        names = {str(e.get("name") or "") for e in entries}
        for entry in entries:
            plural = str(entry.get("name") or "")
            if "/" in plural or entry.get("kind") != kind:
                continue
            resource = Resource(group, version, plural, bool(entry.get("namespaced")), kind)
            return resource, f"{plural}/scale" in names
        raise BudgetError(f'no matches for kind "{kind}" in version "{api_version}"')
