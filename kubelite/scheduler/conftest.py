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
             labels: dict[str, str] | None = None, namespace: str = "default", **spec: Any) -> Obj:
    containers = [{"name": f"c{i}", "image": "busybox", "resources": {"requests": r}}
                  for i, r in enumerate([{}] if requests is None else requests)]
    pod_spec: Obj = {"containers": containers, **spec}
    if node:
        pod_spec["nodeName"] = node
    meta: Obj = {"name": name, "namespace": namespace}
    if labels is not None:
        meta["labels"] = labels
    return {"metadata": meta, "spec": pod_spec}


def table(*nodes: Obj, pods: tuple[Obj, ...] = ()) -> NodeTable:
    out = NodeTable(capacity=2)
    for node in nodes:
        out.set_node(node)
    for i, pod in enumerate(pods):
        out.add_pod({**pod, "metadata": {**pod["metadata"], "name": f"existing-{i}"}})
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
