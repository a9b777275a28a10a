"""What the namespace deleter reports (upstream's status_condition_utils_test.go cases)
and what it finds to delete, against the in-process API server."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.controllers.namespace_deleter import Content, deletion_conditions, discover

Obj = dict[str, Any]
T0 = "2020-01-01T00:00:00Z"
ALL_OK = {
    "NamespaceDeletionDiscoveryFailure": (
        "False", "ResourcesDiscovered", "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": (
        "False", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": (
        "False", "ContentDeleted",
        "All content successfully deleted, may be waiting on finalization"),
    "NamespaceContentRemaining": ("False", "ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": (
        "False", "ContentRemoved", "All content successfully removed"),
}


def shown(conditions: list[Obj]) -> dict[str, tuple[str, str, str]]:
    return {c["type"]: (c["status"], c["reason"], c["message"]) for c in conditions}


@pytest.mark.parametrize("content, changed", [
    pytest.param(Content(), {}, id="empty-all-ok"),
    pytest.param(Content(discovery_failures=["metrics.k8s.io/v1beta1: unavailable"]), {
        "NamespaceDeletionDiscoveryFailure": (
            "True", "DiscoveryFailed",
            "Discovery failed for some groups, 1 failing: metrics.k8s.io/v1beta1: unavailable"),
    }, id="discovery-failed"),
    pytest.param(Content(failures=["pods: boom", "configmaps: bang"]), {
        "NamespaceDeletionContentFailure": (
            "True", "ContentDeletionFailed",
            "Failed to delete all resource types, 2 remaining: configmaps: bang, pods: boom"),
    }, id="deletes-failed-sorted"),
    pytest.param(Content(remaining=3, by_resource=Counter({"pods.": 2, "widgets.example.com": 1}),
                         by_finalizer=Counter({"example.com/hold": 1})), {
        "NamespaceContentRemaining": (
            "True", "SomeResourcesRemain", "Some resources are remaining: pods. has 2 resource "
            "instances, widgets.example.com has 1 resource instances"),
        "NamespaceFinalizersRemaining": (
            "True", "SomeFinalizerRemain",
            "Some finalizers are remaining: example.com/hold in 1 resource instances"),
    }, id="content-and-finalizers-remain"),
])
def test_deletion_conditions_report_each_kind_of_trouble(content: Content,
                                                         changed: dict[str, Any]) -> None:
    assert shown(deletion_conditions([], content)) == {**ALL_OK, **changed}


def test_an_unchanged_condition_keeps_its_transition_time_and_other_conditions_stay() -> None:
    first = deletion_conditions([{"type": "Other", "status": "True"}], Content())
    first = [{**c, "lastTransitionTime": T0} if c["type"] != "Other" else c for c in first]
    again = deletion_conditions(first, Content())
    assert again == first  # nothing to write
    stuck = deletion_conditions(first, Content(remaining=1, by_resource=Counter({"pods.": 1})))
    times = {c["type"]: c.get("lastTransitionTime") for c in stuck}
    assert times["NamespaceDeletionDiscoveryFailure"] == T0
    assert times["NamespaceContentRemaining"] != T0  # its status changed
    assert stuck[0] == {"type": "Other", "status": "True"}


async def test_discovery_finds_namespaced_deletable_resources_at_their_preferred_version(
        client: Client) -> None:
    found = await discover(client)
    assert found.failed_groups == []
    by_name = {d.resource.group_resource: d for d in found.resources}
    assert {"configmaps", "pods", "deployments.apps", "leases.coordination.k8s.io"} <= set(
        by_name)
    assert not {"namespaces", "nodes", "pods/status", "customresourcedefinitions."
                "apiextensions.k8s.io"} & set(by_name)
    assert all(d.resource.namespaced for d in found.resources)
    assert by_name["configmaps"].delete_collection and by_name["configmaps"].listable
    assert by_name["deployments.apps"].resource.version == "v1"
