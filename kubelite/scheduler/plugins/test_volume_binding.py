"""VolumeBinding's scheduling cycle against upstream's volume_binding_test.go and
binder_test.go outcomes, with real informer stores (Indexer + Lister) as its listers."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.client.store import Indexer, Lister
from kubelite.scheduler.conftest import make_node, make_pod, table
from kubelite.scheduler.framework import Code, CycleState, Status
from kubelite.api import volume_claims as vc
from kubelite.scheduler.plugins.volume_binding import (
    BIND_CONFLICT, NODE_CONFLICT, PV_NOT_EXIST, UNBOUND_IMMEDIATE, VolumeBinding)
from kubelite.scheduler.config_errors import ArgsError

Obj = dict[str, Any]
IMMEDIATE_SC = {"metadata": {"name": "immediate-sc"}, "provisioner": "p", "volumeBindingMode": "Immediate"}
WAIT_SC = {"metadata": {"name": "wait-sc"}, "provisioner": vc.NOT_SUPPORTED_PROVISIONER,
           "volumeBindingMode": "WaitForFirstConsumer"}
PROVISIONING_SC = {"metadata": {"name": "provisioning-sc"}, "provisioner": "csi.example.com",
                   "volumeBindingMode": "WaitForFirstConsumer",
                   "allowedTopologies": [{"matchLabelExpressions": [{"key": "zone", "values": ["a"]}]}]}


def claim(name: str, *, storage_class: str = "wait-sc", volume: str = "", bound: bool = False,
          size: str = "1Gi", **meta: Any) -> Obj:
    annotations = {vc.ANN_BIND_COMPLETED: "yes"} if bound else {}
    annotations.update(meta.pop("annotations", {}))
    spec: Obj = {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": size}}}
    if volume:
        spec["volumeName"] = volume
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}",
                         "resourceVersion": "1", "annotations": annotations, **meta},
            "spec": spec, "status": meta.pop("status", {"phase": "Bound" if bound else "Pending"})}


def volume(name: str, *, storage_class: str = "wait-sc", size: str = "1Gi", node_label: tuple[str, str] | None = None,
           claim_ref: str = "", phase: str = "Available") -> Obj:
    spec: Obj = {"storageClassName": storage_class, "accessModes": ["ReadWriteOnce"],
                 "capacity": {"storage": size}}
    if node_label:
        key, value = node_label
        spec["nodeAffinity"] = {"required": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": key, "operator": "In", "values": [value]}]}]}}
    if claim_ref:
        spec["claimRef"] = {"namespace": "default", "name": claim_ref, "uid": f"uid-{claim_ref}"}
    return {"metadata": {"name": name, "resourceVersion": "1"}, "spec": spec, "status": {"phase": phase}}


def lister(*objs: Obj) -> Lister:
    indexer = Indexer()
    for obj in objs:
        indexer.add(obj)
    return Lister(indexer)


def plugin(claims: list[Obj], volumes: list[Obj], classes: tuple[Obj, ...] = (IMMEDIATE_SC, WAIT_SC,
                                                                             PROVISIONING_SC)) -> VolumeBinding:
    out = VolumeBinding()
    out.use_listers({"persistentvolumeclaims": lister(*claims), "persistentvolumes": lister(*volumes),
                     "storageclasses": lister(*classes)})
    return out


def pod_with(*claim_names: str) -> Obj:
    volumes = [{"name": f"v{i}", "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(claim_names)]
    return make_pod("pod-a", volumes=volumes)


NODES = (make_node("node-a", labels={"zone": "a", "kubernetes.io/hostname": "node-a"}),
         make_node("node-b", labels={"zone": "b", "kubernetes.io/hostname": "node-b"}))


def run(vb: VolumeBinding, pod: Obj) -> tuple[Status, dict[str, tuple[str, ...]], CycleState]:
    nodes = table(*NODES)
    state = CycleState()
    status = vb.pre_filter(state, pod, nodes)
    if not status.is_success():
        return status, {}, state
    verdict = vb.filter(state, pod, nodes)
    return status, {name: verdict.status_of(row, vb.name).reasons for name, row in nodes.row_of.items()}, state


OK: dict[str, tuple[str, ...]] = {"node-a": (), "node-b": ()}

CASES = [
    ("pod-without-claims", [], [], [], Status.skip(), {}),
    ("all-bound", ["pvc-a"], [claim("pvc-a", volume="pv-a", bound=True)],
     [volume("pv-a", claim_ref="pvc-a", phase="Bound")], Status.success(), OK),
    ("all-bound-local-volume-pins-its-node", ["pvc-a"], [claim("pvc-a", volume="pv-a", bound=True)],
     [volume("pv-a", claim_ref="pvc-a", phase="Bound", node_label=("kubernetes.io/hostname", "node-a"))],
     Status.success(), {"node-a": (), "node-b": (NODE_CONFLICT,)}),
    ("claim-does-not-exist", ["pvc-a"], [], [],
     Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ('persistentvolumeclaim "pvc-a" not found',)), {}),
    ("part-of-the-claims-do-not-exist", ["pvc-a", "pvc-b"], [claim("pvc-a", volume="pv-a", bound=True)], [],
     Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ('persistentvolumeclaim "pvc-b" not found',)), {}),
    ("immediate-claim-not-bound", ["pvc-a"], [claim("pvc-a", storage_class="immediate-sc")], [],
     Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (UNBOUND_IMMEDIATE,)), {}),
    ("prebound-claim-counts-as-immediate", ["pvc-a"], [claim("pvc-a", volume="pv-a")], [],
     Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (UNBOUND_IMMEDIATE,)), {}),
    ("claim-of-unknown-class-counts-as-immediate", ["pvc-a"], [claim("pvc-a", storage_class="nope")], [],
     Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (UNBOUND_IMMEDIATE,)), {}),
    ("lost-claim", ["pvc-a"], [claim("pvc-a", volume="pv-a", bound=True, status={"phase": "Lost"})], [],
     Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
            ('persistentvolumeclaim "pvc-a" bound to non-existent persistentvolume "pv-a"',)), {}),
    ("deleting-claim", ["pvc-a"], [claim("pvc-a", deletionTimestamp="2026-01-01T00:00:00Z")], [],
     Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ('persistentvolumeclaim "pvc-a" is being deleted',)), {}),
    ("unbound-claim-no-matches", ["pvc-a"], [claim("pvc-a")], [], Status.success(),
     {"node-a": (BIND_CONFLICT,), "node-b": (BIND_CONFLICT,)}),
    ("unbound-claim-matches-a-local-volume", ["pvc-a"], [claim("pvc-a")],
     [volume("pv-a", node_label=("zone", "b"))], Status.success(), {"node-a": (BIND_CONFLICT,), "node-b": ()}),
    ("bound-and-unbound-unsatisfied", ["pvc-a", "pvc-b"],
     [claim("pvc-a", volume="pv-a", bound=True), claim("pvc-b")],
     [volume("pv-a", claim_ref="pvc-a", phase="Bound", node_label=("zone", "b"))], Status.success(),
     {"node-a": (NODE_CONFLICT, BIND_CONFLICT), "node-b": (BIND_CONFLICT,)}),
    ("bound-to-a-missing-volume", ["pvc-a"], [claim("pvc-a", volume="pv-a", bound=True)], [],
     Status.success(), {"node-a": (PV_NOT_EXIST,), "node-b": (PV_NOT_EXIST,)}),
    ("provisioner-limited-by-allowed-topologies", ["pvc-a"], [claim("pvc-a", storage_class="provisioning-sc")],
     [], Status.success(), {"node-a": (), "node-b": (BIND_CONFLICT,)}),
    ("claim-given-a-node-only-fits-that-node", ["pvc-a"],
     [claim("pvc-a", storage_class="provisioning-sc", annotations={vc.ANN_SELECTED_NODE: "node-b"})],
     [], Status.success(), {"node-a": (BIND_CONFLICT,), "node-b": (BIND_CONFLICT,)}),
    ("two-claims-cannot-share-one-volume", ["pvc-a", "pvc-b"], [claim("pvc-a"), claim("pvc-b")],
     [volume("pv-a")], Status.success(), {"node-a": (BIND_CONFLICT,), "node-b": (BIND_CONFLICT,)}),
    ("volume-too-small-or-of-another-class", ["pvc-a"], [claim("pvc-a", size="2Gi")],
     [volume("pv-small"), volume("pv-other", size="5Gi", storage_class="immediate-sc")], Status.success(),
     {"node-a": (BIND_CONFLICT,), "node-b": (BIND_CONFLICT,)}),
    ("volume-not-available-yet", ["pvc-a"], [claim("pvc-a")], [volume("pv-a", phase="Pending")],
     Status.success(), {"node-a": (BIND_CONFLICT,), "node-b": (BIND_CONFLICT,)}),
]


@pytest.mark.parametrize("claim_names, claims, volumes, pre_filter, reasons",
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_volume_binding_judges_claims_as_upstream(claim_names, claims, volumes, pre_filter, reasons) -> None:
    status, got, _ = run(plugin(claims, volumes), pod_with(*claim_names))
    assert (status.code, status.reasons) == (pre_filter.code, pre_filter.reasons)
    assert got == reasons


def test_claims_take_the_smallest_volumes_each_node_can_reach() -> None:
    vb = plugin([claim("small", size="1Gi"), claim("big", size="3Gi")],
                [volume("pv-1", size="1Gi"), volume("pv-3", size="3Gi"), volume("pv-5", size="5Gi"),
                 volume("pv-4-b", size="4Gi", node_label=("zone", "b"))])
    pod = pod_with("big", "small")
    status, reasons, state = run(vb, pod)
    assert reasons == OK
    assert vb.reserve(state, pod, "node-b").is_success()
    chosen = state[vb.name].volumes
    assert {c["metadata"]["name"]: pv["metadata"]["name"] for pv, c in chosen.static} == {
        "small": "pv-1", "big": "pv-3"}
    assert all(pv["spec"]["claimRef"]["uid"] == f"uid-{c['metadata']['name']}" for pv, c in chosen.static)
    assert all(pv["metadata"]["annotations"][vc.ANN_BOUND_BY_CONTROLLER] == "yes" for pv, _ in chosen.static)


def test_a_reserved_volume_is_not_promised_to_the_next_pod_until_unreserved() -> None:
    vb = plugin([claim("pvc-a"), claim("pvc-b")], [volume("pv-a")])
    first, second = pod_with("pvc-a"), pod_with("pvc-b")
    _, reasons, state = run(vb, first)
    assert reasons == OK
    assert vb.reserve(state, first, "node-a").is_success()
    assert run(vb, second)[1] == {"node-a": (BIND_CONFLICT,), "node-b": (BIND_CONFLICT,)}
    vb.unreserve(state, first, "node-a")
    assert run(vb, second)[1] == OK


def test_reserve_asks_the_provisioner_for_the_chosen_node() -> None:
    vb = plugin([claim("pvc-a", storage_class="provisioning-sc")], [])
    pod = pod_with("pvc-a")
    _, _, state = run(vb, pod)
    assert vb.reserve(state, pod, "node-a").is_success()
    [provision] = state[vb.name].volumes.provision
    assert provision["metadata"]["annotations"][vc.ANN_SELECTED_NODE] == "node-a"
    # the next pod sharing the claim sees the promise: node-a or nothing
    assert run(vb, pod)[1] == {"node-a": (), "node-b": (BIND_CONFLICT,)}


def test_a_pod_without_claims_costs_nothing_at_reserve() -> None:
    vb = plugin([], [])
    state = CycleState()
    assert vb.pre_filter(state, make_pod(), table(*NODES)).is_skip()
    assert vb.reserve(state, make_pod(), "node-a").is_success()
    vb.unreserve(state, make_pod(), "node-a")


def test_a_missing_storage_class_is_an_error_of_the_cycle() -> None:
    classes = Indexer()
    classes.add(WAIT_SC)
    vb = VolumeBinding()
    vb.use_listers({"persistentvolumeclaims": lister(claim("pvc-a")), "persistentvolumes": lister(),
                    "storageclasses": Lister(classes)})
    pod, nodes, state = pod_with("pvc-a"), table(*NODES), CycleState()
    assert vb.pre_filter(state, pod, nodes).is_success()
    classes.delete(WAIT_SC)  # gone between PreFilter and Filter
    with pytest.raises(ValueError, match='failed to find storage class "wait-sc"'):
        vb.filter(state, pod, nodes)


@pytest.mark.parametrize("args, timeout, error", [
    (None, 600, ""),
    ({"bindTimeoutSeconds": 0}, 0, ""),
    ({"bindTimeoutSeconds": 10}, 10, ""),
    ({"bindTimeoutSeconds": -10}, None,
     "bindTimeoutSeconds: Invalid value: -10: invalid BindTimeoutSeconds, should not be a negative value"),
    ({"bindTimeoutSeconds": 10, "shape": [{"utilization": 1, "score": 1}]}, None,
     'shape: Invalid value: [{"utilization":1,"score":1}]: unexpected field `shape`, remove it or turn on '
     "the feature gate StorageCapacityScoring"),
    ({"bindTimeoutSeconds": "10"}, None, "json: cannot unmarshal string into Go struct field "
     "VolumeBindingArgs.bindTimeoutSeconds of type int64"),
], ids=["defaults", "zero-is-valid", "positive-is-valid", "negative-is-invalid", "shape-needs-its-gate",
        "mistyped"])
def test_from_args_validates_as_upstream(args, timeout, error) -> None:
    if error:
        with pytest.raises(ArgsError) as raised:
            VolumeBinding.from_args(args or {})
        assert str(raised.value) == error
    else:
        assert VolumeBinding.from_args(args or {}).bind_timeout == timeout
