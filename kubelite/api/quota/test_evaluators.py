"""What objects cost and which quotas they fall under, as upstream's
pkg/quota/v1/evaluator/core tests have it."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.api.quota.evaluators import (
    ScopeRequirement,
    evaluator_for,
    evaluators_for_quota,
    matches,
    usage_stats,
)
from kubelite.api.quota.resources import to_json

Obj = dict[str, Any]
NOW = datetime.datetime(2026, 1, 1, 12, 0, tzinfo=datetime.UTC)


def pod(requests: Obj | None = None, limits: Obj | None = None, **extra: Any) -> Obj:
    resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    status = extra.pop("status", {})
    meta = extra.pop("metadata", {})
    return {"metadata": {"name": "p", **meta},
            "spec": {"containers": [{"name": "c", "resources": resources}], **extra},
            "status": status}


def usage(group: str, plural: str, obj: Obj) -> dict[str, str]:
    return to_json(evaluator_for(group, plural).usage(obj, NOW))


@pytest.mark.parametrize(("obj", "expected"), [
    (pod({"cpu": "1", "memory": "1Gi"}, {"cpu": "2", "memory": "2Gi"}),
     {"count/pods": "1", "pods": "1", "cpu": "1", "requests.cpu": "1", "limits.cpu": "2",
      "memory": "1Gi", "requests.memory": "1Gi", "limits.memory": "2Gi"}),
    (pod(), {"count/pods": "1", "pods": "1"}),
    (pod({"cpu": "1"}, status={"phase": "Succeeded"}), {"count/pods": "1"}),
    (pod({"cpu": "1"}, status={"phase": "Failed"}), {"count/pods": "1"}),
    (pod({"cpu": "1"}, metadata={"deletionTimestamp": "2026-01-01T11:59:00Z",
                                 "deletionGracePeriodSeconds": 30}), {"count/pods": "1"}),
    (pod({"cpu": "1"}, metadata={"deletionTimestamp": "2026-01-01T11:59:50Z",
                                 "deletionGracePeriodSeconds": 30}),
     {"count/pods": "1", "pods": "1", "cpu": "1", "requests.cpu": "1"}),
    (pod({"hugepages-2Mi": "4Mi", "example.com/gpu": "2"}),
     {"count/pods": "1", "pods": "1", "hugepages-2Mi": "4Mi", "requests.hugepages-2Mi": "4Mi",
      "requests.example.com/gpu": "2"}),
    (pod({"cpu": "100m"}, overhead={"cpu": "250m"}),
     {"count/pods": "1", "pods": "1", "cpu": "350m", "requests.cpu": "350m"}),
], ids=["requests-and-limits", "best-effort", "succeeded", "failed", "past-grace",
        "within-grace", "hugepages-and-extended", "overhead"])
def test_pod_usage(obj: Obj, expected: dict[str, str]) -> None:
    assert usage("", "pods", obj) == expected


@pytest.mark.parametrize(("spec", "expected"), [
    ({"type": "ClusterIP", "ports": [{"port": 80}]},
     {"count/services": "1", "services": "1", "services.loadbalancers": "0",
      "services.nodeports": "0"}),
    ({"type": "NodePort", "ports": [{"port": 80}, {"port": 81}]},
     {"count/services": "1", "services": "1", "services.loadbalancers": "0",
      "services.nodeports": "2"}),
    ({"type": "LoadBalancer", "ports": [{"port": 80}]},
     {"count/services": "1", "services": "1", "services.loadbalancers": "1",
      "services.nodeports": "1"}),
    ({"type": "LoadBalancer", "allocateLoadBalancerNodePorts": False,
      "ports": [{"port": 80}, {"port": 81, "nodePort": 30001}]},
     {"count/services": "1", "services": "1", "services.loadbalancers": "1",
      "services.nodeports": "1"}),
], ids=["clusterip", "nodeport", "loadbalancer", "loadbalancer-without-node-ports"])
def test_service_usage(spec: Obj, expected: dict[str, str]) -> None:
    assert usage("", "services", {"spec": spec}) == expected


def test_claim_usage_is_charged_to_its_class_too() -> None:
    claim = {"spec": {"storageClassName": "gold", "resources": {"requests": {"storage": "10Gi"}}}}
    assert usage("", "persistentvolumeclaims", claim) == {
        "count/persistentvolumeclaims": "1", "gold.storageclass.storage.k8s.io/persistentvolumeclaims": "1",
        "gold.storageclass.storage.k8s.io/requests.storage": "10Gi", "persistentvolumeclaims": "1",
        "requests.storage": "10Gi"}


@pytest.mark.parametrize(("group", "plural", "expected"), [
    ("", "configmaps", {"configmaps": "1", "count/configmaps": "1"}),
    ("", "secrets", {"count/secrets": "1", "secrets": "1"}),
    ("apps", "deployments", {"count/deployments.apps": "1"}),
    ("example.com", "widgets", {"count/widgets.example.com": "1"}),
], ids=["legacy-configmaps", "legacy-secrets", "grouped", "custom"])
def test_object_counts(group: str, plural: str, expected: dict[str, str]) -> None:
    assert usage(group, plural, {}) == expected


@pytest.mark.parametrize(("scope", "obj", "expected"), [
    (ScopeRequirement("Terminating"), pod(activeDeadlineSeconds=60), True),
    (ScopeRequirement("Terminating"), pod(), False),
    (ScopeRequirement("NotTerminating"), pod(), True),
    (ScopeRequirement("BestEffort"), pod(), True),
    (ScopeRequirement("BestEffort"), pod({"cpu": "1"}), False),
    (ScopeRequirement("NotBestEffort"), pod({"cpu": "1"}), True),
    (ScopeRequirement("PriorityClass", "In", ("high",)), pod(priorityClassName="high"), True),
    (ScopeRequirement("PriorityClass", "In", ("high",)), pod(priorityClassName="low"), False),
    (ScopeRequirement("PriorityClass", "NotIn", ("high",)), pod(), True),
    (ScopeRequirement("PriorityClass", "Exists"), pod(), False),
    (ScopeRequirement("PriorityClass", "DoesNotExist"), pod(), True),
    (ScopeRequirement("CrossNamespacePodAffinity"),
     pod(affinity={"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
         {"topologyKey": "zone", "namespaces": ["other"]}]}}), True),
], ids=["terminating", "not-terminating-pod", "not-terminating", "best-effort",
        "burstable-not-best-effort", "not-best-effort", "priority-in", "priority-not-in",
        "priority-not-in-none", "priority-exists-none", "priority-does-not-exist",
        "cross-namespace-affinity"])
def test_pod_scopes(scope: ScopeRequirement, obj: Obj, expected: bool) -> None:
    assert evaluator_for("", "pods").matches_scope(scope, obj) is expected


def quota(hard: Obj, **spec: Any) -> Obj:
    return {"metadata": {"name": "q"}, "spec": {"hard": hard, **spec}, "status": {"hard": hard}}


@pytest.mark.parametrize(("q", "expected"), [
    (quota({"pods": "1"}), True),
    (quota({"configmaps": "1"}), False),
    (quota({"pods": "1"}, scopes=["BestEffort"]), False),
    (quota({"pods": "1"}, scopes=["NotBestEffort", "NotTerminating"]), True),
    (quota({"pods": "1"}, scopeSelector={"matchExpressions": [
        {"scopeName": "PriorityClass", "operator": "In", "values": ["high"]}]}), False),
], ids=["limits-pods", "limits-something-else", "other-scope", "all-scopes", "selector"])
def test_a_quota_matches_what_it_limits_in_its_scopes(q: Obj, expected: bool) -> None:
    assert matches(evaluator_for("", "pods"), q, pod({"cpu": "1"})) is expected


def test_usage_stats_sum_only_objects_in_scope_and_list_every_name() -> None:
    # As upstream, whatever else the objects use comes along; the caller masks it.
    pods = [pod({"cpu": "1"}), pod({"cpu": "500m"}, activeDeadlineSeconds=10), pod()]
    q = quota({"requests.cpu": "4", "pods": "4", "requests.memory": "1Gi"},
              scopes=["NotTerminating"])
    used = usage_stats(evaluator_for("", "pods"), pods, q, ["requests.cpu", "pods",
                                                            "requests.memory"], NOW)
    assert to_json(used) == {"count/pods": "2", "cpu": "1", "pods": "2", "requests.cpu": "1",
                             "requests.memory": "0"}


def test_a_quota_is_counted_by_one_evaluator_per_resource() -> None:
    found = evaluators_for_quota(["pods", "count/pods", "requests.storage",
                                  "count/deployments.apps", "secrets"])
    assert sorted((e.group, e.plural) for e in found) == [
        ("", "persistentvolumeclaims"), ("", "pods"), ("", "secrets"), ("apps", "deployments")]
