"""Which PV a claim gets, and the bind/unbind copies, checked against upstream's
index_test.go and pv_controller_test.go outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api import volume_claims as vc
from kubelite.controllers import pv_matching as pvm

Obj = dict[str, Any]


def pv(name: str, size: str = "10Gi", *, klass: str = "", modes: tuple[str, ...] = ("ReadWriteOnce",),
       phase: str = "Available", labels: dict[str, str] | None = None, claim_ref: Obj | None = None,
       mode: str = "Filesystem", deleting: bool = False, **annotations: str) -> Obj:
    meta: Obj = {"name": name, "labels": labels or {}, "annotations": annotations}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    spec: Obj = {"capacity": {"storage": size}, "accessModes": list(modes), "volumeMode": mode,
                 "storageClassName": klass, "hostPath": {"path": f"/data/{name}"}}
    if claim_ref is not None:
        spec["claimRef"] = claim_ref
    return {"metadata": meta, "spec": spec, "status": {"phase": phase}}


def pvc(name: str = "data", size: str = "5Gi", *, klass: str | None = "",
        modes: tuple[str, ...] = ("ReadWriteOnce",), selector: Obj | None = None,
        mode: str = "Filesystem", volume: str = "", **annotations: str) -> Obj:
    spec: Obj = {"accessModes": list(modes), "resources": {"requests": {"storage": size}},
                 "volumeMode": mode}
    if klass is not None:
        spec["storageClassName"] = klass
    if selector is not None:
        spec["selector"] = selector
    if volume:
        spec["volumeName"] = volume
    return {"metadata": {"name": name, "namespace": "ns", "uid": "uid-1", "resourceVersion": "7",
                         "annotations": annotations}, "spec": spec}


REF = {"namespace": "ns", "name": "data"}


@pytest.mark.parametrize(("volumes", "claim", "delay", "chosen"), [
    ([pv("big", "20Gi"), pv("small", "5Gi"), pv("mid", "10Gi")], pvc(), False, "small"),
    ([pv("tiny", "1Gi")], pvc(), False, None),
    ([pv("garbled", "lots"), pv("fine", "20Gi")], pvc(), False, "fine"),
    ([pv("b", "5Gi"), pv("a", "5Gi")], pvc(), False, "a"),
    ([pv("fast", klass="fast"), pv("plain")], pvc(klass="fast"), False, "fast"),
    ([pv("fast", klass="fast")], pvc(klass=""), False, None),
    ([pv("rwo")], pvc(modes=("ReadWriteOnce", "ReadOnlyMany")), False, None),
    ([pv("both", modes=("ReadWriteOnce", "ReadOnlyMany"))], pvc(modes=("ReadOnlyMany",)), False, "both"),
    ([pv("block", mode="Block")], pvc(), False, None),
    ([pv("pending", phase="Pending"), pv("released", phase="Released")], pvc(), False, None),
    ([pv("gone", deleting=True)], pvc(), False, None),
    ([pv("other", claim_ref={"namespace": "ns", "name": "someone"})], pvc(), False, None),
    ([pv("mine", "20Gi", phase="Bound", klass="x", claim_ref=REF), pv("fits")], pvc(), False, "mine"),
    ([pv("stale", claim_ref={**REF, "uid": "old-uid"})], pvc(), False, None),
    ([pv("labelled", labels={"tier": "gold"}), pv("bare")],
     pvc(selector={"matchLabels": {"tier": "gold"}}), False, "labelled"),
    ([pv("bare")], pvc(selector={"matchExpressions": [
        {"key": "tier", "operator": "In", "values": ["gold"]}]}), False, None),
    ([pv("free", klass="wffc")], pvc(klass="wffc"), True, None),
    ([pv("made", klass="wffc", phase="Pending", claim_ref={**REF, "uid": "uid-1"})],
     pvc(klass="wffc"), True, "made"),
], ids=["smallest-that-fits", "all-too-small", "unreadable-capacity-never-fits", "name-breaks-size-tie", "class-must-match",
        "no-class-wants-no-class-pv", "every-access-mode-needed", "superset-of-modes-fits",
        "volume-mode-must-match", "only-available-volumes", "deleting-volume-skipped",
        "reserved-for-another-claim", "prebound-wins-over-everything", "claimref-with-old-uid",
        "selector-matches-labels", "selector-without-match", "wait-for-first-consumer-leaves-free-pvs",
        "wait-for-first-consumer-takes-its-provisioned-pv"])
def test_find_best_match(volumes: list[Obj], claim: Obj, delay: bool, chosen: str | None) -> None:
    found = pvm.find_best_match(claim, volumes, delay_binding=delay)
    assert (found["metadata"]["name"] if found else None) == chosen


@pytest.mark.parametrize(("volume", "claim", "reason"), [
    (pv("v", "1Gi"), pvc(), "requested PV is too small"),
    (pv("v", klass="gold"), pvc(), "storageClassName does not match"),
    (pv("v", mode="Block"), pvc(), "incompatible volumeMode"),
    (pv("v"), pvc(modes=("ReadWriteMany",)), "incompatible accessMode"),
    (pv("v"), pvc(), ""),
], ids=["too-small", "class", "volume-mode", "access-mode", "fits"])
def test_mismatch_names_upstreams_reason(volume: Obj, claim: Obj, reason: str) -> None:
    assert pvm.mismatch(volume, claim) == reason


@pytest.mark.parametrize(("claim", "klass"), [
    (pvc(klass="fast"), "fast"),
    (pvc(klass=None), ""),
    (pvc(klass="fast", **{vc.ANN_BETA_STORAGE_CLASS: "slow"}), "slow"),
], ids=["spec", "none", "beta-annotation-wins"])
def test_claim_class(claim: Obj, klass: str) -> None:
    assert vc.claim_class(claim) == klass


def test_binding_a_free_volume_marks_it_bound_by_the_controller() -> None:
    bound = vc.bind_volume_to_claim(pv("v"), pvc())
    assert bound is not None
    assert bound["spec"]["claimRef"] == {"kind": "PersistentVolumeClaim", "namespace": "ns",
                                         "name": "data", "uid": "uid-1", "apiVersion": "v1",
                                         "resourceVersion": "7"}
    assert bound["metadata"]["annotations"] == {vc.ANN_BOUND_BY_CONTROLLER: "yes"}


def test_binding_a_user_prebound_volume_only_adds_the_uid() -> None:
    bound = vc.bind_volume_to_claim(pv("v", claim_ref=REF), pvc())
    assert bound is not None and bound["spec"]["claimRef"]["uid"] == "uid-1"
    assert vc.ANN_BOUND_BY_CONTROLLER not in bound["metadata"]["annotations"]


def test_binding_twice_writes_nothing() -> None:
    once = vc.bind_volume_to_claim(pv("v"), pvc())
    assert once is not None and vc.bind_volume_to_claim(once, pvc()) is None


@pytest.mark.parametrize(("claim", "annotations"), [
    (pvc(), {vc.ANN_BOUND_BY_CONTROLLER: "yes", vc.ANN_BIND_COMPLETED: "yes"}),
    (pvc(volume="v"), {vc.ANN_BIND_COMPLETED: "yes"}),
], ids=["controller-chose", "user-named-the-volume"])
def test_binding_the_claim(claim: Obj, annotations: dict[str, str]) -> None:
    bound = pvm.bind_claim_to_volume(claim, pv("v"))
    assert bound is not None
    assert (bound["spec"]["volumeName"], bound["metadata"]["annotations"]) == ("v", annotations)
    assert pvm.bind_claim_to_volume(bound, pv("v")) is None
    assert "volumeName" not in claim["spec"] or claim["spec"]["volumeName"] == "v"  # not edited


@pytest.mark.parametrize(("volume", "claim_ref", "annotations"), [
    (pv("v", claim_ref={**REF, "uid": "u"}, **{vc.ANN_BOUND_BY_CONTROLLER: "yes"}), None, None),
    (pv("v", claim_ref={**REF, "uid": "u"}), REF, {}),
], ids=["controller-bound-is-freed", "user-prebound-keeps-its-claim"])
def test_unbinding(volume: Obj, claim_ref: Obj | None, annotations: dict[str, str] | None) -> None:
    out = pvm.unbind_volume(volume)
    assert out["spec"].get("claimRef") == claim_ref
    assert out["metadata"].get("annotations") == annotations


def test_a_pods_claims_include_its_ephemeral_volumes() -> None:
    pod = {"metadata": {"name": "web", "namespace": "ns"},
           "spec": {"volumes": [{"name": "a", "persistentVolumeClaim": {"claimName": "data"}},
                                {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {}}},
                                {"name": "cfg", "configMap": {"name": "c"}}]}}
    assert pvm.pod_claim_keys(pod) == ["ns/data", "ns/web-scratch"]


def pod(name: str, node: str = "") -> Obj:
    return {"metadata": {"name": name}, "spec": {"nodeName": node} if node else {}}


@pytest.mark.parametrize(("pods", "event"), [
    ([], ("WaitForFirstConsumer", "waiting for first consumer to be created before binding")),
    ([pod("a", "n1")], ("WaitForFirstConsumer", "waiting for first consumer to be created before binding")),
    ([pod("a")], ("WaitForPodScheduled", "waiting for pod a to be scheduled")),
    ([pod("b"), pod("a"), pod("c", "n1")], ("WaitForPodScheduled", "waiting for pods a,b to be scheduled")),
], ids=["no-pod", "only-scheduled-pods", "one-unscheduled", "several-unscheduled"])
def test_the_event_of_a_claim_waiting_for_its_consumer(pods: list[Obj], event: tuple[str, str]) -> None:
    assert pvm.wait_for_consumer_event(pods) == event
