"""The DefaultStorageClass plugin against a real registry on SQLite (no bootstrap: the
registry starts with no class)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.default_storage_class import (
    DefaultStorageClass,
    default_class_name,
)
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions

Obj = dict[str, Any]
GA = "storageclass.kubernetes.io/is-default-class"
BETA = "storageclass.beta.kubernetes.io/is-default-class"


async def make_class(registry: Registry, name: str, default: bool) -> None:
    annotations = {GA: "true"} if default else {}
    await registry.store_for("storage.k8s.io", "storageclasses").create(
        "", {"metadata": {"name": name, "annotations": annotations}, "provisioner": "x"},
        WriteOptions())


async def admit(registry: Registry, claim: Obj, operation: Operation = Operation.CREATE) -> Obj:
    resource = registry.store_for("", "persistentvolumeclaims").spec
    plugin = DefaultStorageClass(stores=registry, cache=registry.cache)
    attrs = Attributes(resource, operation, "default", "c", claim)
    if plugin.handles(attrs):
        await plugin.admit(attrs)
    return claim


def claim(**spec: Any) -> Obj:
    return {"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"], **spec}}


async def test_a_claim_naming_no_class_gets_the_default(registry: Registry) -> None:
    await make_class(registry, "plain", False)
    await make_class(registry, "local-path", True)
    assert (await admit(registry, claim()))["spec"]["storageClassName"] == "local-path"


@pytest.mark.parametrize("given", [
    claim(storageClassName=""),
    claim(storageClassName="plain"),
    {"metadata": {"name": "c", "annotations": {"volume.beta.kubernetes.io/storage-class": "x"}},
     "spec": {}},
], ids=["empty-class-asks-for-none", "named-class", "beta-annotation"])
async def test_a_claim_naming_a_class_keeps_it(registry: Registry, given: Obj) -> None:
    await make_class(registry, "local-path", True)
    before = given["spec"].get("storageClassName")
    assert (await admit(registry, given))["spec"].get("storageClassName") == before


async def test_without_a_default_the_claim_is_unchanged(registry: Registry) -> None:
    await make_class(registry, "plain", False)
    assert "storageClassName" not in (await admit(registry, claim()))["spec"]


async def test_updates_are_not_defaulted(registry: Registry) -> None:
    await make_class(registry, "local-path", True)
    assert "storageClassName" not in (await admit(registry, claim(), Operation.UPDATE))["spec"]


def sc(name: str, created: str, mark: str = GA, value: str = "true") -> Obj:
    return {"metadata": {"name": name, "creationTimestamp": created, "annotations": {mark: value}}}


@pytest.mark.parametrize(("classes", "default"), [
    ([sc("a", "2026-01-01T00:00:00Z", value="false")], None),
    ([sc("old", "2026-01-01T00:00:00Z"), sc("new", "2026-02-01T00:00:00Z")], "new"),
    ([sc("b", "2026-01-01T00:00:00Z"), sc("a", "2026-01-01T00:00:00Z")], "a"),
    ([sc("beta", "2026-01-01T00:00:00Z", BETA)], "beta"),
], ids=["not-true-is-not-default", "newest-wins", "name-breaks-a-tie", "beta-annotation"])
def test_which_class_is_the_default(classes: list[Obj], default: str | None) -> None:
    assert default_class_name(classes) == default
