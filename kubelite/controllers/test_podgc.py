"""The pod garbage collector's choices, checked against upstream's gc_controller_test.go
outcomes (TestGCTerminated, TestGCTerminating)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.podgc import (
    is_out_of_service, is_terminated, terminated_to_delete)

Obj = dict[str, Any]


def pod(name: str, phase: str, created: str = "2026-01-01T00:00:00Z", reason: str = "") -> Obj:
    status: Obj = {"phase": phase}
    if reason:
        status["reason"] = reason
    return {"metadata": {"name": name, "creationTimestamp": created}, "status": status}


@pytest.mark.parametrize("phase,terminated", [
    ("Pending", False), ("Running", False), ("Unknown", False), ("Succeeded", True),
    ("Failed", True), (None, True),
], ids=["pending", "running", "unknown", "succeeded", "failed", "no-phase"])
def test_terminated_means_neither_pending_running_nor_unknown(phase: str | None,
                                                               terminated: bool) -> None:
    assert is_terminated({"status": {"phase": phase}} if phase else {}) is terminated


@pytest.mark.parametrize("pods,threshold,deleted", [
    ([pod("a", "Failed"), pod("b", "Succeeded")], 1, ["a"]),
    ([pod("a", "Failed"), pod("b", "Succeeded")], 2, []),
    ([pod("a", "Failed"), pod("b", "Succeeded"), pod("c", "Running")], 1, ["a"]),
    ([pod("a", "Failed", "2026-01-02T00:00:00Z"), pod("b", "Succeeded"),
      pod("c", "Failed", "2026-01-03T00:00:00Z")], 1, ["b", "a"]),
    ([pod("a", "Succeeded"), pod("z", "Failed", "2026-01-09T00:00:00Z", reason="Evicted"),
      pod("b", "Succeeded")], 2, ["z"]),
    ([pod("a", "Failed"), pod("b", "Succeeded")], 0, []),
], ids=["over-by-one", "at-threshold", "running-not-counted", "oldest-first",
        "evicted-first", "zero-disables"])
def test_terminated_over_threshold(pods: list[Obj], threshold: int, deleted: list[str]) -> None:
    assert [p["metadata"]["name"] for p in terminated_to_delete(pods, threshold)] == deleted


def node(ready: str, taints: list[Obj]) -> Obj:
    return {"spec": {"taints": taints},
            "status": {"conditions": [{"type": "Ready", "status": ready}]}}


OOS = {"key": "node.kubernetes.io/out-of-service", "effect": "NoExecute"}


@pytest.mark.parametrize("n,out", [
    (node("False", [OOS]), True),
    (node("Unknown", [{**OOS, "effect": "NoSchedule"}]), True),
    (node("True", [OOS]), False),
    (node("False", [{"key": "other", "effect": "NoExecute"}]), False),
], ids=["not-ready-tainted", "unknown-any-effect", "ready-tainted", "other-taint"])
def test_out_of_service_needs_not_ready_and_the_taint(n: Obj, out: bool) -> None:
    assert is_out_of_service(n) is out
