"""NamespaceLifecycle against a real registry on SQLite."""

from __future__ import annotations

import pytest

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.lifecycle import NamespaceLifecycle
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.machinery import errors


def configmap_in(registry: Registry, namespace: str,
                 operation: Operation = Operation.CREATE) -> Attributes:
    spec = registry.store_for("", "configmaps").spec
    return Attributes(spec, operation, namespace, "cm", {"metadata": {"name": "cm"}})


async def make_namespace(registry: Registry, name: str) -> None:
    await registry.store_for("", "namespaces").create(
        "", {"metadata": {"name": name}}, WriteOptions())


async def test_create_in_an_active_namespace_passes(registry: Registry) -> None:
    await make_namespace(registry, "team")
    plugin = NamespaceLifecycle(stores=registry)
    await plugin.admit(configmap_in(registry, "team"))


async def test_create_in_a_missing_namespace_is_not_found(registry: Registry) -> None:
    plugin = NamespaceLifecycle(stores=registry)
    with pytest.raises(errors.NotFound) as caught:
        await plugin.admit(configmap_in(registry, "nowhere"))
    assert caught.value.message == 'namespaces "nowhere" not found'


async def test_create_in_a_terminating_namespace_is_forbidden(registry: Registry) -> None:
    await make_namespace(registry, "going")
    # The `kubernetes` finalizer holds it Terminating: no namespace loop runs here.
    await registry.store_for("", "namespaces").delete("", "going", {}, WriteOptions())
    plugin = NamespaceLifecycle(stores=registry)
    with pytest.raises(errors.Forbidden) as caught:
        await plugin.admit(configmap_in(registry, "going"))
    assert caught.value.message == ('configmaps "cm" is forbidden: unable to create new content in '
                                    "namespace going because it is being terminated")
    [cause] = caught.value.causes
    assert (cause.type, cause.field) == ("NamespaceTerminating", "metadata.namespace")


@pytest.mark.parametrize(
    ("plural", "operation", "subresource", "handled"),
    [("configmaps", Operation.CREATE, "", True),
     ("configmaps", Operation.UPDATE, "", False),
     ("namespaces", Operation.CREATE, "", False),
     ("pods", Operation.CREATE, "binding", False)],
    ids=["namespaced-create", "update", "cluster-scoped", "subresource"],
)
def test_only_creates_of_namespaced_objects_are_checked(
        registry: Registry, plural: str, operation: Operation, subresource: str,
        handled: bool) -> None:
    spec = registry.store_for("", plural).spec
    attrs = Attributes(spec, operation, "team", "x", {}, subresource=subresource)
    assert NamespaceLifecycle(stores=registry).handles(attrs) is handled


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
async def test_the_clusters_own_namespaces_may_not_be_deleted(registry: Registry,
                                                              name: str) -> None:
    await make_namespace(registry, name)  # the API server's bootstrap makes them
    namespaces = registry.store_for("", "namespaces")
    with pytest.raises(errors.Forbidden) as caught:
        await namespaces.delete("", name, {}, WriteOptions())
    assert caught.value.message == (f'namespaces "{name}" is forbidden: this namespace '
                                    "may not be deleted")
    assert not (await namespaces.get("", name)).deleting


async def test_other_namespaces_may_be_deleted(registry: Registry) -> None:
    await make_namespace(registry, "scratch")
    _, deleted_now = await registry.store_for("", "namespaces").delete(
        "", "scratch", {}, WriteOptions())
    assert not deleted_now  # held by its `kubernetes` finalizer, as upstream
