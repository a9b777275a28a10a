"""Namespaces and Nodes (pkg/registry/core/namespace, pkg/registry/core/node).

A new namespace is Active and carries the `kubernetes` finalizer; only the `finalize`
subresource changes spec.finalizers afterwards, and while any is left a deleted
namespace stays, Terminating (pkg/registry/core/namespace/storage). The label
`kubernetes.io/metadata.name` always equals the name. Nodes keep the status their
kubelet registers with (upstream does not clear it on create), take allocatable from
capacity when missing, and select on spec.unschedulable.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.apiserver.registry.strategy import DefaultStrategy, StatusStrategy, Strategy

from .names import dns_label


Obj = dict[str, Any]
NAME_LABEL = "kubernetes.io/metadata.name"


class NamespaceStrategy(DefaultStrategy):
    has_status = True
    return_deleted_object = True

    def validate_name(self, name: str, prefix: bool = False) -> list[str]:
        return dns_label(name, prefix)

    def subresource_strategies(self) -> dict[str, Strategy]:
        return {"status": StatusStrategy(self), "finalize": NamespaceFinalizeStrategy(self)}

    def deletion_finalizers(self, ns: Obj) -> list[str]:
        # spec.finalizers hold a deleted namespace until the controller manager's
        # `namespace` loop has emptied it and removed `kubernetes`.
        return list((ns.get("spec") or {}).get("finalizers") or ())

    def mark_deleting(self, ns: Obj) -> None:
        ns.setdefault("status", {})["phase"] = "Terminating"

    def prepare_for_create(self, ns: Obj) -> None:
        super().prepare_for_create(ns)
        ns["status"] = {"phase": "Active"}
        spec = ns.get("spec")
        if not isinstance(spec, dict):
            spec = ns["spec"] = {}
        finalizers = spec.setdefault("finalizers", [])
        if "kubernetes" not in finalizers:
            finalizers.append("kubernetes")

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        # Finalizers in spec change only through the finalize subresource.
        old_finalizers = (old.get("spec") or {}).get("finalizers")
        spec = new.setdefault("spec", {})
        if old_finalizers is None:
            spec.pop("finalizers", None)
        else:
            spec["finalizers"] = list(old_finalizers)

    def default(self, ns: Obj) -> None:
        meta = ns.setdefault("metadata", {})
        if meta.get("name"):
            labels = meta.get("labels")
            if not isinstance(labels, dict):
                labels = meta["labels"] = {}
            labels[NAME_LABEL] = meta["name"]


class NamespaceFinalizeStrategy(StatusStrategy):
    """namespaces/finalize: only spec.finalizers changes."""

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        finalizers = (new.get("spec") or {}).get("finalizers")
        meta = new.get("metadata") or {}
        for key in list(new):
            if key not in ("apiVersion", "kind"):
                del new[key]
        for key, value in old.items():
            if key not in ("apiVersion", "kind"):
                new[key] = copy.deepcopy(value)
        new["metadata"] = dict(old.get("metadata") or {})
        if "resourceVersion" in meta:
            new["metadata"]["resourceVersion"] = meta["resourceVersion"]
        spec = new.setdefault("spec", {})
        if finalizers:
            spec["finalizers"] = list(finalizers)
        else:
            spec.pop("finalizers", None)


class NodeStrategy(DefaultStrategy):
    has_status = True

    def prepare_for_create(self, node: Obj) -> None:
        return None  # the kubelet registers with its status, and upstream keeps it

    def default(self, node: Obj) -> None:
        status = node.get("status")
        if isinstance(status, dict) and status.get("allocatable") is None and status.get("capacity") is not None:
            status["allocatable"] = dict(status["capacity"])

    def selectable_fields(self, node: Obj) -> dict[str, str]:
        unschedulable = bool((node.get("spec") or {}).get("unschedulable"))
        return {"spec.unschedulable": "true" if unschedulable else "false"}
