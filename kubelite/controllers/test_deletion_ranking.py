"""Which pod a ReplicaSet deletes first: one row per rule of upstream's
ActivePodsWithRanks.Less (controller_utils_test.go TestSortingActivePodsWithRanks), each
a pair where the first pod must go before the second, whatever order they come in."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.controllers.deletion_ranking import deletion_cost, pods_to_delete, rank_for_deletion

Obj = dict[str, Any]
NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


def ago(seconds: float) -> str:
    return (NOW - datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def make(uid: str, *, node: str = "n1", phase: str = "Running", ready_for: float | None = 600,
         cost: str | None = None, restarts: int = 0, age: float = 3600) -> Obj:
    conditions = [] if ready_for is None else [
        {"type": "Ready", "status": "True", "lastTransitionTime": ago(ready_for)}]
    meta: Obj = {"name": uid, "namespace": "ns", "uid": uid, "creationTimestamp": ago(age)}
    if cost is not None:
        meta["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": cost}
    return {"metadata": meta, "spec": {"nodeName": node},
            "status": {"phase": phase, "conditions": conditions,
                       "containerStatuses": [{"name": "c", "restartCount": restarts}]}}


CASES = [
    pytest.param(make("a", node=""), make("b"), id="unassigned-before-assigned"),
    pytest.param(make("a", phase="Pending"), make("b", phase="Unknown"), id="pending-before-unknown"),
    pytest.param(make("a", phase="Unknown"), make("b"), id="unknown-before-running"),
    pytest.param(make("a", ready_for=None), make("b"), id="not-ready-before-ready"),
    pytest.param(make("a", cost="-5"), make("b"), id="lower-deletion-cost-first"),
    pytest.param(make("z", cost="10"), make("a", cost="20", ready_for=10), id="cost-before-ready-time"),
    pytest.param(make("a", node="busy"), make("b", node="quiet"), id="doubled-up-node-first"),
    pytest.param(make("z", ready_for=10), make("a", ready_for=1000), id="ready-more-recently-first"),
    pytest.param(make("a", ready_for=700), make("b", ready_for=600), id="same-log-bucket-lower-uid"),
    pytest.param(make("a", restarts=3), make("b", restarts=1), id="more-restarts-first"),
    pytest.param(make("z", age=60), make("a", age=7200), id="newer-first"),
    pytest.param(make("a", age=3000), make("b", age=3600), id="same-age-bucket-lower-uid"),
]


@pytest.mark.parametrize("first, second", CASES)
def test_the_pod_to_delete_comes_first(first: Obj, second: Obj) -> None:
    related = [first, second, make("r1", node="busy"), make("r2", node="busy")]
    for pods in ([first, second], [second, first]):
        assert [p["metadata"]["uid"] for p in rank_for_deletion(pods, related, NOW)] == \
            [first["metadata"]["uid"], second["metadata"]["uid"]]


def test_pods_to_delete_takes_the_first_ranked() -> None:
    pods = [make("old", age=7200), make("unready", ready_for=None), make("new", age=10),
            make("unassigned", node="")]
    picked = pods_to_delete(pods, pods, 2, NOW)
    assert [p["metadata"]["uid"] for p in picked] == ["unassigned", "unready"]
    assert len(pods_to_delete(pods, pods, 9, NOW)) == 4


@pytest.mark.parametrize("value, cost", [
    pytest.param(None, 0, id="absent"), pytest.param("-7", -7, id="negative"),
    pytest.param("2147483647", 2147483647, id="int32-max"),
    pytest.param("2147483648", 0, id="over-int32"), pytest.param("1.5", 0, id="not-an-int"),
])
def test_deletion_cost_reads_an_int32_annotation(value: str | None, cost: int) -> None:
    pod = make("a", cost=value)
    assert deletion_cost(pod) == cost


def test_pods_to_delete_is_the_head_of_the_whole_ranking() -> None:
    # every rule in play at once, many ties: the heap's pick equals the sorted prefix
    pods = [make(f"p{i:02d}", node=("", "n1", "n2", "busy")[i % 4],
                 phase=("Pending", "Running", "Unknown")[i % 3],
                 ready_for=(None, 10, 600, 700)[i % 4], cost=("-1", None, "3")[i % 3],
                 restarts=i % 2, age=(60, 3000, 3600)[i % 3]) for i in range(40)]
    ranked = [p["metadata"]["uid"] for p in rank_for_deletion(pods, pods, NOW)]
    for count in (1, 7, 39):
        assert [p["metadata"]["uid"] for p in pods_to_delete(pods, pods, count, NOW)] == \
            ranked[:count]
