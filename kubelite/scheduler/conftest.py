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
             labels: dict[str, str] | None = None, namespace: str = "default", **spec: Any) -> Obj:
    containers = [{"name": f"c{i}", "image": "busybox", "resources": {"requests": r}}
                  for i, r in enumerate([{}] if requests is None else requests)]
    pod_spec: Obj = {"containers": containers, **spec}
    if node:
        pod_spec["nodeName"] = node
    metadata: Obj = {"name": name, "namespace": namespace}
    if labels is not None:
        metadata["labels"] = labels
    return {"metadata": metadata, "spec": pod_spec}


def table(*nodes: Obj, pods: tuple[Obj, ...] = ()) -> NodeTable:
    out = NodeTable(capacity=2)
    for node in nodes:
        out.set_node(node)
    for i, pod in enumerate(pods):
        out.add_pod({**pod, "metadata": {**pod["metadata"], "name": f"existing-{i}"}})
    return out
