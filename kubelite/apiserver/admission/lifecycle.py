"""NamespaceLifecycle (plugin/pkg/admission/namespace/lifecycle upstream): nothing is
created in a namespace that does not exist or is being deleted, and the namespaces the
cluster itself lives in (default, kube-system, kube-public) are never deleted.

The namespace is looked up in the watch cache; only when it is missing there does the
plugin wait for the cache to catch up with the store, so a namespace created just
before is found, and an everyday create costs no round trip to the store.
"""

from __future__ import annotations

from typing import ClassVar

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.stores import Stores
from kubelite.machinery import errors

IMMORTAL_NAMESPACES = frozenset({"default", "kube-system", "kube-public"})


class NamespaceLifecycle:
    name: ClassVar[str] = "NamespaceLifecycle"

    def __init__(self, *, stores: Stores) -> None:
        self.stores = stores

    def handles(self, attrs: Attributes) -> bool:
        if attrs.operation is Operation.DELETE:
            return attrs.is_resource("", "namespaces")
        return attrs.operation is Operation.CREATE and attrs.resource.namespaced \
            and not attrs.subresource

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation is Operation.DELETE:
            if attrs.name in IMMORTAL_NAMESPACES:
                raise attrs.forbidden("this namespace may not be deleted")
            return
        entry = await self.stores.store_for("", "namespaces").cached_entry("", attrs.namespace)
        if entry is None:
            raise errors.not_found("", "namespaces", attrs.namespace)
        if entry.deleting:
            raise attrs.forbidden(
                f"unable to create new content in namespace {attrs.namespace} because it "
                f"is being terminated",
                errors.Cause("NamespaceTerminating", f"namespace {attrs.namespace} is being terminated",
                             "metadata.namespace"))
