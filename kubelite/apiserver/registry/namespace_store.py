"""The Namespace's own storage rules (pkg/registry/core/namespace/storage upstream).

Deleting a namespace whose spec.finalizers is not empty only marks it Terminating;
the namespace lifecycle loop (apiserver/namespaces.py) empties it and then removes
the `kubernetes` finalizer through the `finalize` subresource, the one way to change
spec.finalizers.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.apiserver.registry.store import Store
from kubelite.apiserver.registry.strategy import DefaultStrategy

Obj = dict[str, Any]


class NamespaceStore(Store):
    def extra_finalizers(self, obj: Obj) -> list[str]:
        return list((obj.get("spec") or {}).get("finalizers") or ())

    def on_deletion_started(self, obj: Obj) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"


class FinalizeStrategy(DefaultStrategy):
    """namespaces/<name>/finalize: everything but spec.finalizers stays as it was."""

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        finalizers = (new.get("spec") or {}).get("finalizers")
        meta = new.get("metadata", {})
        new.clear()
        new.update(copy.deepcopy(old))
        new["metadata"]["resourceVersion"] = meta.get("resourceVersion",
                                                      old["metadata"].get("resourceVersion"))
        spec = new.setdefault("spec", {})
        if finalizers:
            spec["finalizers"] = finalizers
        else:
            spec.pop("finalizers", None)

    def bumps_generation(self, new: Obj, old: Obj) -> bool:
        return False
