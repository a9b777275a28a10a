"""The Namespace's own storage rules (pkg/registry/core/namespace/storage upstream).

Deleting a namespace whose spec.finalizers is not empty only marks it Terminating;
the namespace lifecycle loop (apiserver/namespaces.py) empties it and then removes
the `kubernetes` finalizer through the `finalize` subresource, the one way to change
spec.finalizers.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.registry.store import Store

Obj = dict[str, Any]


class NamespaceStore(Store):
    def extra_finalizers(self, obj: Obj) -> list[str]:
        return list((obj.get("spec") or {}).get("finalizers") or ())

    def on_deletion_started(self, obj: Obj) -> None:
        obj.setdefault("status", {})["phase"] = "Terminating"
