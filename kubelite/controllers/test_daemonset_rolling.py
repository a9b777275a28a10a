"""One RollingUpdate step (upstream's update_test.go TestDaemonSetUpdatesPods* cases, in
miniature): how many old pods go, where new ones surge in, and the revision hash."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.controllers.daemonset_history import fnv32, revision_data, revision_hash
from kubelite.controllers.daemonset_rolling import (
    rolling_update_step, surge, surge_excess, unavailable)

Obj = dict[str, Any]
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
NEW, OLD = "new", "old"


def ds(strategy: str = "RollingUpdate", **rolling: Any) -> Obj:
    update: Obj = {"type": strategy}
    if rolling:
        update["rollingUpdate"] = rolling
    return {"spec": {"updateStrategy": update}}


def pod(name: str, hash_: str, ready: bool = True) -> Obj:
    return {"metadata": {"name": name, "labels": {"controller-revision-hash": hash_}},
            "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                       "lastTransitionTime": "2025-01-01T00:00:00Z"}]}}


def names(pods: list[Obj]) -> list[str]:
    return [p["metadata"]["name"] for p in pods]


@pytest.mark.parametrize("the_ds, desired, want", [
    pytest.param(ds(), 10, (0, 1), id="defaults-1-unavailable"),
    pytest.param(ds(maxUnavailable="25%"), 10, (0, 3), id="percent-rounds-up"),
    pytest.param(ds(maxUnavailable=0, maxSurge=2), 10, (2, 0), id="surge-only"),
    pytest.param(ds(maxUnavailable=0, maxSurge=0), 10, (0, 1), id="both-zero-means-one"),
    pytest.param(ds(maxSurge="10%", maxUnavailable=0), 5, (1, 0), id="surge-percent-up"),
])
def test_surge_and_unavailable(the_ds: Obj, desired: int, want: tuple[int, int]) -> None:
    assert (surge(the_ds, desired), unavailable(the_ds, desired)) == want


def test_max_unavailable_deletes_that_many_old_available_pods() -> None:
    nodes = {f"n{i}": [pod(f"p{i}", OLD)] for i in range(5)}
    delete, create = rolling_update_step(ds(maxUnavailable=2), 5, nodes, NEW, NOW,
                                         lambda n: True)
    assert (names(delete), create) == (["p0", "p1"], [])


def test_unavailable_new_pods_use_up_the_budget_and_unavailable_old_ones_go_free() -> None:
    nodes = {"n0": [pod("fresh", NEW, ready=False)], "n1": [pod("sick", OLD, ready=False)],
             "n2": [pod("ok", OLD)], "n3": []}
    delete, _ = rolling_update_step(ds(maxUnavailable=1), 4, nodes, NEW, NOW, lambda n: True)
    assert names(delete) == ["sick"]


def test_surge_creates_beside_old_pods_then_deletes_them_once_new_is_available() -> None:
    nodes = {"n0": [pod("old0", OLD), pod("new0", NEW)],
             "n1": [pod("old1", OLD), pod("new1", NEW, ready=False)],
             "n2": [pod("old2", OLD)], "n3": [pod("old3", OLD)],
             "n4": [pod("old4", OLD, ready=False)]}
    delete, create = rolling_update_step(ds(maxSurge=2, maxUnavailable=0), 5, nodes, NEW,
                                         NOW, lambda n: True)
    # n1 surging uses one of two; n4's old pod is unavailable: replaced at once
    assert (names(delete), create) == (["old0"], ["n4", "n2"])


def test_on_delete_never_replaces() -> None:
    nodes = {"n0": [pod("p0", OLD)]}
    assert rolling_update_step(ds("OnDelete"), 1, nodes, NEW, NOW, lambda n: True) == ([], [])


def test_surge_excess_keeps_old_until_new_is_available() -> None:
    waiting = [pod("old", OLD), pod("new", NEW, ready=False), pod("new2", NEW)]
    assert names(surge_excess(ds(maxSurge=1), waiting, NEW, NOW)) == ["new2"]
    done = [pod("old", OLD), pod("new", NEW)]
    assert names(surge_excess(ds(maxSurge=1), done, NEW, NOW)) == ["old"]


def test_revision_hash_is_fnv1_of_the_data_safe_encoded() -> None:
    assert fnv32(b"") == 0x811C9DC5 and fnv32(b"a") == 0x050C5D7E  # Go's fnv.New32
    data = revision_data({"spec": {"template": {"metadata": {"labels": {"a": "b"}}}}})
    assert data == {"spec": {"template": {"metadata": {"labels": {"a": "b"}},
                                          "$patch": "replace"}}}
    assert revision_hash(data) != revision_hash(data, 1)
    assert revision_hash(data) == revision_hash(revision_data(
        {"spec": {"template": {"metadata": {"labels": {"a": "b"}}}}}))
