"""The Priority plugin against a real registry on SQLite."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.priority import Priority
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.machinery import errors

Obj = dict[str, Any]


async def make_class(registry: Registry, name: str, value: int, **extra: Any) -> None:
    await registry.store_for("scheduling.k8s.io", "priorityclasses").create(
        "", {"metadata": {"name": name}, "value": value, **extra}, WriteOptions())


async def admit(registry: Registry, spec: Obj) -> Obj:
    pod = {"metadata": {"name": "p"}, "spec": spec}
    resource = registry.store_for("", "pods").spec
    await Priority(stores=registry, cache=registry.cache).admit(
        Attributes(resource, Operation.CREATE, "default", "p", pod))
    return pod["spec"]


async def test_a_pod_without_a_class_gets_zero(registry: Registry) -> None:
    spec = await admit(registry, {})
    assert (spec["priority"], spec["preemptionPolicy"]) == (0, "PreemptLowerPriority")
    assert "priorityClassName" not in spec


async def test_the_global_default_class_applies_to_a_pod_naming_none(registry: Registry) -> None:
    await make_class(registry, "everyday", 100, globalDefault=True, preemptionPolicy="Never")
    spec = await admit(registry, {})
    assert (spec["priorityClassName"], spec["priority"], spec["preemptionPolicy"]) == (
        "everyday", 100, "Never")


async def test_a_named_class_gives_its_value(registry: Registry) -> None:
    await make_class(registry, "high", 1000)
    spec = await admit(registry, {"priorityClassName": "high", "priority": 1000})
    assert spec["priority"] == 1000


async def test_a_missing_class_is_forbidden(registry: Registry) -> None:
    with pytest.raises(errors.Forbidden) as caught:
        await admit(registry, {"priorityClassName": "nope"})
    assert caught.value.message == ('pods "p" is forbidden: no PriorityClass with name nope '
                                    'was found')


async def test_a_priority_that_differs_from_the_class_is_forbidden(registry: Registry) -> None:
    await make_class(registry, "high", 1000)
    with pytest.raises(errors.Forbidden, match=r"the integer value of priority \(5\) must not "
                                               r"be provided in pod spec"):
        await admit(registry, {"priorityClassName": "high", "priority": 5})


@pytest.mark.parametrize(
    ("group", "plural", "operation", "handled"),
    [("", "pods", Operation.CREATE, True),
     ("", "pods", Operation.UPDATE, False),
     ("", "configmaps", Operation.CREATE, False)],
    ids=["pod-create", "pod-update", "other-kind"],
)
def test_only_new_pods_are_admitted(registry: Registry, group: str, plural: str,
                                    operation: Operation, handled: bool) -> None:
    attrs = Attributes(registry.store_for(group, plural).spec, operation, "default", "x", {})
    assert Priority(stores=registry, cache=registry.cache).handles(attrs) is handled
