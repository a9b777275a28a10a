"""DefaultTolerationSeconds: upstream's admission_test.go cases, and the plugin in the
default chain of a real registry."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.default_tolerations import (
    NOT_READY, UNREACHABLE, DefaultTolerationSeconds)
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions

Obj = dict[str, Any]


def default(key: str, seconds: int = 300) -> Obj:
    return {"key": key, "operator": "Exists", "effect": "NoExecute",
            "tolerationSeconds": seconds}


async def admit(registry: Registry, tolerations: list[Obj] | None,
                operation: Operation = Operation.CREATE, subresource: str = "",
                plugin: DefaultTolerationSeconds | None = None) -> list[Obj] | None:
    spec: Obj = {} if tolerations is None else {"tolerations": tolerations}
    pod = {"metadata": {"name": "p"}, "spec": spec}
    resource = registry.store_for("", "pods").spec
    attrs = Attributes(resource, operation, "default", "p", pod, subresource=subresource)
    plugin = plugin or DefaultTolerationSeconds()
    if plugin.handles(attrs):
        await plugin.admit(attrs)
    return spec.get("tolerations")


@pytest.mark.parametrize(("given", "expected"), [
    (None, [default(NOT_READY), default(UNREACHABLE)]),
    ([{"key": "foo", "operator": "Equal", "value": "bar", "effect": "NoSchedule"}],
     [{"key": "foo", "operator": "Equal", "value": "bar", "effect": "NoSchedule"},
      default(NOT_READY), default(UNREACHABLE)]),
    ([default(NOT_READY, 700)], [default(NOT_READY, 700), default(UNREACHABLE)]),
    ([default(UNREACHABLE, 700)], [default(UNREACHABLE, 700), default(NOT_READY)]),
    ([default(NOT_READY, 700), default(UNREACHABLE, 700)],
     [default(NOT_READY, 700), default(UNREACHABLE, 700)]),
    ([{"key": NOT_READY, "operator": "Exists"}],
     [{"key": NOT_READY, "operator": "Exists"}, default(UNREACHABLE)]),
    ([{"key": NOT_READY, "operator": "Exists", "effect": "NoSchedule"}],
     [{"key": NOT_READY, "operator": "Exists", "effect": "NoSchedule"},
      default(NOT_READY), default(UNREACHABLE)]),
    ([{"operator": "Exists"}], [{"operator": "Exists"}]),
    ([{"operator": "Exists", "effect": "NoExecute"}],
     [{"operator": "Exists", "effect": "NoExecute"}]),
], ids=["none", "unrelated-toleration-kept", "not-ready-given", "unreachable-given",
        "both-given", "no-effect-covers-noexecute", "noschedule-does-not-cover",
        "tolerate-everything", "tolerate-every-noexecute"])
async def test_missing_node_tolerations_are_added_with_300_seconds(
        registry: Registry, given: list[Obj] | None, expected: list[Obj]) -> None:
    assert await admit(registry, given) == expected


async def test_the_seconds_are_configurable(registry: Registry) -> None:
    plugin = DefaultTolerationSeconds(not_ready_seconds=5, unreachable_seconds=7)
    assert await admit(registry, None, plugin=plugin) == [default(NOT_READY, 5),
                                                          default(UNREACHABLE, 7)]


@pytest.mark.parametrize(("operation", "subresource", "added"), [
    (Operation.CREATE, "", True), (Operation.UPDATE, "", True),
    (Operation.UPDATE, "status", False), (Operation.CREATE, "binding", False),
], ids=["create", "update", "status", "binding"])
async def test_only_pods_themselves_are_defaulted(registry: Registry, operation: Operation,
                                                  subresource: str, added: bool) -> None:
    got = await admit(registry, None, operation, subresource)
    assert (got is not None) is added


async def test_a_pod_created_through_the_registry_gets_the_tolerations(
        registry: Registry) -> None:
    await registry.store_for("", "namespaces").create(
        "", {"metadata": {"name": "default"}}, WriteOptions())
    pod = await registry.store_for("", "pods").create(
        "default", {"metadata": {"name": "p"},
                    "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
        WriteOptions())
    assert pod["spec"]["tolerations"] == [default(NOT_READY), default(UNREACHABLE)]
