"""Builders of small Node and Pod dicts for the scheduler's unit tests (upstream's st.MakeNode /
st.MakePod, in kubelite's plain-dict form)."""

from __future__ import annotations

from typing import Any

from kubelite.scheduler.node_table import NodeTable

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
             labels: dict[str, str] | None = None, priority: int | None = None,
             status: Obj | None = None, **spec: Any) -> Obj:
    containers = [{"name": f"c{i}", "image": "busybox", "resources": {"requests": r}}
                  for i, r in enumerate([{}] if requests is None else requests)]
    pod_spec: Obj = {"containers": containers, **spec}
    if node:
        pod_spec["nodeName"] = node
    if priority is not None:
        pod_spec["priority"] = priority
    meta: Obj = {"name": name, "namespace": "default", "uid": f"uid-{name}"}
    if labels:
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
        out.add_pod(pod if keep_names else
                    {**pod, "metadata": {"name": f"existing-{i}", "namespace": "default"}})
    return out
