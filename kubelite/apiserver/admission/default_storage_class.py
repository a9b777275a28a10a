"""DefaultStorageClass (plugin/pkg/admission/storage/storageclass/setdefault upstream): a
new PersistentVolumeClaim that names no class gets the cluster's default one.

A claim "names a class" when it has `spec.storageClassName` at all, even "" (which asks
for a PV of no class), or the beta `volume.beta.kubernetes.io/storage-class`
annotation; those are left alone. The default is the StorageClass annotated
`storageclass.kubernetes.io/is-default-class: "true"` (or the beta annotation); of
several, the newest wins and, between classes made the same second, the first by name,
as upstream's GetDefaultClass sorts them. Without a default the claim is unchanged.
Classes are read from the watch cache, never the store.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.stores import Stores
from kubelite.apiserver.watchcache import Cache

Obj = dict[str, Any]
ANN_BETA_CLASS = "volume.beta.kubernetes.io/storage-class"
DEFAULT_MARKS = ("storageclass.kubernetes.io/is-default-class",
                 "storageclass.beta.kubernetes.io/is-default-class")


def default_class_name(classes: list[Obj]) -> str | None:
    marked = sorted((c for c in classes
                     if any(((c.get("metadata") or {}).get("annotations") or {}).get(mark) == "true"
                            for mark in DEFAULT_MARKS)),
                    key=lambda c: str(c["metadata"].get("name") or ""))
    if not marked:
        return None
    newest = max(marked, key=lambda c: str(c["metadata"].get("creationTimestamp") or ""))
    return str(newest["metadata"]["name"])


class DefaultStorageClass:
    name: ClassVar[str] = "DefaultStorageClass"

    def __init__(self, *, stores: Stores, cache: Cache) -> None:
        self.stores = stores
        self.cache = cache

    def handles(self, attrs: Attributes) -> bool:
        return attrs.operation is Operation.CREATE and \
            attrs.is_resource("", "persistentvolumeclaims") and not attrs.subresource

    async def admit(self, attrs: Attributes) -> None:
        claim = attrs.obj
        spec = claim.get("spec")
        annotations = (claim.get("metadata") or {}).get("annotations") or {}
        if not isinstance(spec, dict) or spec.get("storageClassName") is not None \
                or ANN_BETA_CLASS in annotations:
            return  # names a class (or is malformed: validation says so)
        prefix = self.stores.store_for("storage.k8s.io", "storageclasses").prefix
        name = default_class_name([e.obj for e in self.cache.bucket(prefix).values()])
        if name is not None:
            spec["storageClassName"] = name
