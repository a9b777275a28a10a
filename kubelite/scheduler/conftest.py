"""Builders of small Node and Pod dicts for the scheduler's unit tests (upstream's st.MakeNode /
st.MakePod, in kubelite's plain-dict form)."""

from __future__ import annotations

from typing import Any

from kubelite.scheduler.node_table import NodeTable
from kubelite.scheduler.plugins import REGISTRY

Obj = dict[str, Any]


def make_node(name: str, *, cpu: str | None = "4", memory: str | None = "32Gi", pods: str = "110",
              labels: dict[str, str] | None = None, taints: list[Obj] | None = None,
              unschedulable: bool = False, images: list[Obj] | None = None) -> Obj:
    allocatable = {"pods": pods}
    if cpu is not None:
        allocatable["cpu"] = cpu
    if memory is not None:
        allocatable["memory"] = memory
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable},
            "status": {"allocatable": allocatable, "images": images or []}}


def make_pod(name: str = "p", *, requests: list[dict[str, str]] | None = None, node: str = "",
             labels: dict[str, str] | None = None, namespace: str = "default",
             priority: int | None = None, status: Obj | None = None, **spec: Any) -> Obj:
    containers = [{"name": f"c{i}", "image": "busybox", "resources": {"requests": r}}
                  for i, r in enumerate([{}] if requests is None else requests)]
    pod_spec: Obj = {"containers": containers, **spec}
    if node:
        pod_spec["nodeName"] = node
    if priority is not None:
        pod_spec["priority"] = priority
    meta: Obj = {"name": name, "namespace": namespace, "uid": f"uid-{name}"}
    if labels is not None:
        meta["labels"] = labels
    pod: Obj = {"metadata": meta, "spec": pod_spec}
    if status is not None:
        pod["status"] = status
    return pod


def table(*nodes: Obj, pods: tuple[Obj, ...] = (), keep_names: bool = False) -> NodeTable:
    """The nodes and the pods counted on them; pods are renamed existing-0, -1, ...
    unless `keep_names` (tests that name victims keep them)."""
    out = NodeTable(capacity=2)
    for node in nodes:
        out.set_node(node)
    for i, pod in enumerate(pods):
        out.add_pod(pod if keep_names else {**pod, "metadata": {
            **pod["metadata"], "name": f"existing-{i}", "uid": f"uid-existing-{i}"}})
    return out


# upstream's default order at Filter and Score (default_plugins.go); the expectations below
# keep the plugins kubelite has, so they hold as plugins are added
UPSTREAM_FILTER = ("NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
                   "NodeResourcesFit", "VolumeRestrictions", "NodeVolumeLimits", "VolumeBinding",
                   "VolumeZone", "PodTopologySpread", "InterPodAffinity")
UPSTREAM_SCORE = ("TaintToleration", "NodeAffinity", "NodeResourcesFit", "PodTopologySpread",
                  "InterPodAffinity", "NodeResourcesBalancedAllocation", "ImageLocality")
UPSTREAM_WEIGHTS = {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1,
                    "PodTopologySpread": 2, "InterPodAffinity": 2,
                    "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1}


def present(names: tuple[str, ...], *, without: tuple[str, ...] = (), first: tuple[str, ...] = ()) -> list[str]:
    """`first`, then upstream's `names` kubelite has, less `without`."""
    return [*first, *(n for n in names if n in REGISTRY and n not in without and n not in first)]
