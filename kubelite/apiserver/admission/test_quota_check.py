"""The quota admission rule, pure (upstream's resource_quota admission_test.go cases):
what is refused, in which words, and what is charged."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.api.quota.evaluators import evaluator_for
from kubelite.apiserver.admission.quota_check import QuotaRefusal, check_request

Obj = dict[str, Any]
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def quota(name: str, hard: Obj, used: Obj | None, **spec: Any) -> Obj:
    status: Obj = {"hard": hard}
    if used is not None:
        status["used"] = used
    return {"metadata": {"name": name, "namespace": "ns", "resourceVersion": "5"},
            "spec": {"hard": hard, **spec}, "status": status}


def pod(cpu: str | None = "1", memory: str | None = "1Gi") -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v}
    return {"metadata": {"name": "p"}, "spec": {"containers": [
        {"name": "c", "resources": {"requests": requests, "limits": dict(requests)}}]}}


def check(quotas: list[Obj], obj: Obj, *, plural: str = "pods", operation: str = "CREATE",
          old: Obj | None = None) -> list[Obj]:
    return check_request(quotas, evaluator=evaluator_for("", plural), operation=operation,
                         subresource="", obj=obj, old=old, now=NOW)


@pytest.mark.parametrize(("quotas", "obj", "message"), [
    ([quota("compute-quota", {"requests.cpu": "2"}, {"requests.cpu": "1"})], pod(cpu="2"),
     "exceeded quota: compute-quota, requested: requests.cpu=2, used: requests.cpu=1, "
     "limited: requests.cpu=2"),
    ([quota("q", {"requests.cpu": "4", "requests.memory": "1Gi"},
            {"requests.cpu": "3500m", "requests.memory": "512Mi"})], pod(),
     "exceeded quota: q, requested: requests.cpu=1,requests.memory=1Gi, used: "
     "requests.cpu=3500m,requests.memory=512Mi, limited: requests.cpu=4,requests.memory=1Gi"),
    ([quota("q", {"cpu": "4", "memory": "4Gi"}, {"cpu": "0", "memory": "0"})],
     pod(cpu=None, memory=None), "failed quota: q: must specify cpu for: c; memory for: c"),
    ([quota("q", {"pods": "4"}, None)], pod(), "status unknown for quota: q, resources: pods"),
    ([quota("q", {"pods": "4"}, {"pods": "0"}), quota("tight", {"pods": "1"}, {"pods": "1"})],
     pod(), "exceeded quota: tight, requested: pods=1, used: pods=1, limited: pods=1"),
], ids=["over-cpu", "over-two-resources", "must-specify", "status-unknown",
        "second-quota-full"])
def test_refusals(quotas: list[Obj], obj: Obj, message: str) -> None:
    with pytest.raises(QuotaRefusal) as refused:
        check(quotas, obj)
    assert refused.value.message == message


def test_a_fitting_create_is_charged_to_every_quota_that_applies() -> None:
    quotas = [quota("a", {"pods": "5", "requests.cpu": "4"}, {"pods": "1", "requests.cpu": "1"}),
              quota("b", {"configmaps": "5"}, {"configmaps": "0"}),
              quota("c", {"pods": "3"}, {"pods": "0"}, scopes=["BestEffort"])]
    charged = check(quotas, pod())
    assert charged[0]["status"]["used"] == {"pods": "2", "requests.cpu": "2"}
    assert charged[1] is quotas[1] and charged[2] is quotas[2]
    assert quotas[0]["status"]["used"] == {"pods": "1", "requests.cpu": "1"}  # not edited


def test_an_update_is_charged_only_its_growth() -> None:
    old = {"metadata": {"name": "s", "resourceVersion": "3"},
           "spec": {"type": "NodePort", "ports": [{"port": 80}]}}
    new = {"metadata": {"name": "s", "resourceVersion": "3"},
           "spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 81}]}}
    quotas = [quota("q", {"services": "2", "services.nodeports": "2"},
                    {"services": "2", "services.nodeports": "1"})]
    charged = check(quotas, new, plural="services", operation="UPDATE", old=old)
    assert charged[0]["status"]["used"] == {"services": "2", "services.nodeports": "2"}


def test_nothing_applies_nothing_changes() -> None:
    quotas = [quota("q", {"configmaps": "1"}, {"configmaps": "1"})]
    assert check(quotas, pod()) is quotas
