"""Silent nodes: probe times noted on the loop's clock, and the Unknown conditions
written for them (upstream's TestMonitorNodeHealthUpdateStatus cases)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.controllers.node_health import Probe, is_silent, observe, unknown_conditions

Obj = dict[str, Any]
T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def node(status: str = "True", heartbeat: str = "h0") -> Obj:
    return {"status": {"conditions": [{"type": "Ready", "status": status,
                                       "lastHeartbeatTime": heartbeat}]}}


def lease(renewed: str) -> Obj:
    return {"spec": {"renewTime": renewed}}


def probe_after(*sightings: tuple[float, Obj, Obj | None]) -> Probe:
    probe = None
    for seconds, seen, seen_lease in sightings:
        probe = observe(probe, seen, seen_lease, at(seconds))
    assert probe is not None
    return probe


@pytest.mark.parametrize(("sightings", "probe_at"), [
    ([(0, node(), lease("r0")), (30, node(), lease("r0"))], 0),
    ([(0, node(), lease("r0")), (30, node(), lease("r1"))], 30),
    ([(0, node(), None), (30, node(heartbeat="h1"), None)], 30),
    ([(0, node(), lease("r0")), (30, node("Unknown"), lease("r0"))], 0),
    ([(0, node(), lease("r0")), (30, node("Unknown"), lease("r0")),
      (50, node("Unknown"), lease("r1"))], 50),
], ids=["nothing-new", "lease-renewed", "heartbeat-posted", "own-unknown-write-is-not-news",
        "lease-after-silence"])
def test_probe_time_is_when_the_loop_last_saw_news(sightings: list[Any],
                                                   probe_at: float) -> None:
    assert probe_after(*sightings).time == at(probe_at)


@pytest.mark.parametrize(("seen", "now", "silent"), [
    (node(), 40, False), (node(), 41, True),
    ({"status": {}}, 50, False), ({"status": {}}, 61, True),
], ids=["within-grace", "past-grace", "never-posted-within-startup", "never-posted-past"])
def test_a_node_is_silent_past_its_grace_period(seen: Obj, now: float, silent: bool) -> None:
    probe = observe(None, seen, None, at(0))
    assert is_silent(probe, seen, at(now), grace=40, startup_grace=60) is silent


def test_silent_conditions_become_unknown_keeping_their_heartbeat() -> None:
    seen = {"status": {"conditions": [
        {"type": "Ready", "status": "True", "reason": "KubeletReady",
         "lastHeartbeatTime": "h0", "lastTransitionTime": "t0"},
        {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": "h0"},
        {"type": "NetworkUnavailable", "status": "False"}]}}
    got = unknown_conditions(seen, "now")
    assert got is not None
    by_type = {c["type"]: c for c in got}
    assert by_type["Ready"] == {"type": "Ready", "status": "Unknown",
                                "reason": "NodeStatusUnknown",
                                "message": "Kubelet stopped posting node status.",
                                "lastHeartbeatTime": "h0", "lastTransitionTime": "now"}
    assert by_type["MemoryPressure"]["status"] == "Unknown"
    assert (by_type["DiskPressure"]["reason"], by_type["PIDPressure"]["message"]) == (
        "NodeStatusNeverUpdated", "Kubelet never posted node status.")
    assert by_type["NetworkUnavailable"]["status"] == "False"  # not the kubelet's to say
    assert seen["status"]["conditions"][0]["status"] == "True"  # the input is not changed
    assert unknown_conditions({"status": {"conditions": got}}, "later") is None
