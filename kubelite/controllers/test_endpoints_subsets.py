"""The Endpoints subsets: repacked by port set, truncated at 1000 addresses as
upstream's truncateEndpoints does, and the last-change trigger time."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.endpoints_subsets import TriggerTimeTracker, repack, truncate

Obj = dict[str, Any]
P80 = {"name": "a", "port": 80, "protocol": "TCP"}
P81 = {"name": "b", "port": 81, "protocol": "TCP"}


def address(i: int) -> Obj:
    return {"ip": f"10.0.{i // 250}.{i % 250}"}


def test_addresses_with_the_same_ports_share_a_subset() -> None:
    subsets = repack([(address(2), P80, True), (address(1), P80, True), (address(2), P81, True),
                      (address(1), P81, True), (address(3), P80, False)])
    assert subsets == [
        {"notReadyAddresses": [address(3)], "ports": [P80]},
        {"addresses": [address(1), address(2)], "ports": [P80, P81]},
    ]


def test_a_portless_entry_gives_a_subset_without_ports() -> None:
    assert repack([(address(1), None, True)]) == [{"addresses": [address(1)]}]


def subsets_of(*counts: tuple[int, int]) -> list[Obj]:
    out, i = [], 0
    for ready, not_ready in counts:
        subset: Obj = {"ports": [P80]}
        if ready:
            subset["addresses"] = [address(j) for j in range(i, i + ready)]
        i += ready
        if not_ready:
            subset["notReadyAddresses"] = [address(j) for j in range(i, i + not_ready)]
        i += not_ready
        out.append(subset)
    return out


def counts(subsets: list[Obj]) -> list[tuple[int, int]]:
    return [(len(s.get("addresses") or ()), len(s.get("notReadyAddresses") or ())) for s in subsets]


@pytest.mark.parametrize("before, truncated, after", [
    pytest.param([(600, 400)], False, [(600, 400)], id="at-capacity"),
    pytest.param([(1200, 0)], True, [(1000, 0)], id="ready-over"),
    pytest.param([(900, 200)], True, [(900, 100)], id="not-ready-cut-first"),
    pytest.param([(600, 300), (300, 0)], True, [(600, 100), (300, 0)], id="not-ready-fill-the-rest"),
    pytest.param([(800, 100), (400, 50)], True, [(667, 0), (333, 0)], id="ready-proportional"),
    pytest.param([(500, 300), (100, 300)], True, [(500, 200), (100, 200)],
                 id="not-ready-proportional"),
])
def test_truncate_at_a_thousand(before: list[tuple[int, int]], truncated: bool,
                                after: list[tuple[int, int]]) -> None:
    subsets = subsets_of(*before)
    assert truncate(subsets) is truncated
    assert counts(subsets) == after


def pod(name: str, ready_since: str) -> Obj:
    return {"metadata": {"name": name},
            "status": {"conditions": [{"type": "Ready", "status": "True",
                                       "lastTransitionTime": ready_since}]}}


SERVICE = {"metadata": {"name": "web", "creationTimestamp": "2026-01-01T00:00:00Z"}}


def test_trigger_time_is_the_earliest_change_since_the_last_sync() -> None:
    tracker = TriggerTimeTracker()

    def synced(pods: list[Obj]) -> str:
        when, state = tracker.compute("ns/web", SERVICE, pods)
        tracker.remember("ns/web", state)
        return when

    a = pod("a", "2026-01-01T00:01:00Z")
    assert synced([a]) == "2026-01-01T00:00:00Z"  # first sight: the Service's creation
    assert synced([a]) == ""  # nothing changed
    b = pod("b", "2026-01-01T00:03:00Z")
    a2 = pod("a", "2026-01-01T00:02:00Z")
    assert tracker.compute("ns/web", SERVICE, [a2, b])[0] == "2026-01-01T00:02:00Z"
    assert synced([a2, b]) == "2026-01-01T00:02:00Z"  # not remembered: the same again
    tracker.forget("ns/web")
    assert synced([a2, b]) == "2026-01-01T00:00:00Z"
