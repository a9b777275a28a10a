"""Which nodes a daemon pod belongs on: upstream's TestNodeShouldRunDaemonPod
(daemon_controller_test.go) and its taint cases, and the pod a node gets."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.daemonset_rules import (
    daemon_pod_template, eligibility_pod, should_run, target_node)

Obj = dict[str, Any]
SIMPLE = {"name": "simple-daemon-set", "type": "production"}  # upstream's simpleDaemonSetLabel
SIMPLE2 = {"name": "simple-daemon-set", "type": "test"}


def node(taints: list[Obj] | None = None, **spec: Any) -> Obj:
    return {"metadata": {"name": "test-node", "labels": dict(SIMPLE)},
            "spec": {**({"taints": taints} if taints else {}), **spec}}


def required(*expressions: Obj) -> Obj:
    return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": list(expressions)}]}}}


def taint(key: str, effect: str, value: str = "") -> Obj:
    return {"key": key, "value": value, "effect": effect}


def judge(pod_spec: Obj, the_node: Obj) -> tuple[bool, bool]:
    return should_run(the_node, eligibility_pod({"spec": pod_spec}, "test-node"))


@pytest.mark.parametrize("pod_spec, the_node, want", [
    pytest.param({}, node(), (True, True), id="should-run"),
    pytest.param({"containers": [{"resources": {"requests": {"memory": "200M"}}}]}, node(),
                 (True, True), id="insufficient-resources-are-the-schedulers"),
    pytest.param({"containers": [{"ports": [{"hostPort": 666}]}]}, node(), (True, True),
                 id="host-ports-are-the-schedulers"),
    pytest.param({"nodeName": "other-node"}, node(), (False, False),
                 id="pod-not-match-host-name"),
    pytest.param({"nodeSelector": SIMPLE2}, node(), (False, False),
                 id="node-selector-not-match"),
    pytest.param({"nodeSelector": SIMPLE}, node(), (True, True), id="node-selector-match"),
    pytest.param({"affinity": required({"key": "type", "operator": "In", "values": ["test"]})},
                 node(), (False, False), id="node-affinity-not-match"),
    pytest.param({"affinity": required({"key": "type", "operator": "In",
                                        "values": ["production"]})},
                 node(), (True, True), id="node-affinity-match"),
    pytest.param({}, node(unschedulable=True), (True, True), id="unschedulable-node"),
    pytest.param({}, node([taint("node.kubernetes.io/unschedulable", "NoSchedule")]),
                 (True, True), id="unschedulable-taint-tolerated-by-default"),
    pytest.param({}, node([taint("node.kubernetes.io/not-ready", "NoExecute")]),
                 (True, True), id="not-ready-tolerated-by-default"),
    pytest.param({}, node([taint("node.kubernetes.io/memory-pressure", "NoSchedule")]),
                 (True, True), id="memory-pressure-tolerated-by-default"),
    pytest.param({}, node([taint("node.kubernetes.io/network-unavailable", "NoSchedule")]),
                 (False, True), id="network-unavailable-without-host-network"),
    pytest.param({"hostNetwork": True},
                 node([taint("node.kubernetes.io/network-unavailable", "NoSchedule")]),
                 (True, True), id="network-unavailable-with-host-network"),
    pytest.param({}, node([taint("dedicated", "NoSchedule", "db")]), (False, True),
                 id="untolerated-no-schedule-keeps-running-pod"),
    pytest.param({}, node([taint("dedicated", "NoExecute", "db")]), (False, False),
                 id="untolerated-no-execute-evicts"),
    pytest.param({}, node([taint("dedicated", "PreferNoSchedule", "db")]), (True, True),
                 id="prefer-no-schedule-ignored"),
    pytest.param({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "db",
                                   "effect": "NoExecute"}]},
                 node([taint("dedicated", "NoExecute", "db")]), (True, True),
                 id="tolerated-no-execute"),
    pytest.param({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "web"}]},
                 node([taint("dedicated", "NoSchedule", "db")]), (False, True),
                 id="toleration-value-differs"),
    pytest.param({"tolerations": [{"operator": "Exists"}]},
                 node([taint("a", "NoExecute"), taint("b", "NoSchedule")]), (True, True),
                 id="exists-without-key-tolerates-all"),
])
def test_node_should_run_daemon_pod(pod_spec: Obj, the_node: Obj,
                                    want: tuple[bool, bool]) -> None:
    assert judge(pod_spec, the_node) == want


def test_the_pod_is_pinned_to_its_node_replacing_required_affinity() -> None:
    template = {"metadata": {"labels": {"app": "a"}}, "spec": {
        "affinity": {"nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "type", "operator": "In", "values": ["x"]}]}]},
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {}}]}},
        "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                         "effect": "NoExecute", "tolerationSeconds": 300}]}}
    pod = daemon_pod_template(template, "n1")
    affinity = pod["spec"]["affinity"]["nodeAffinity"]
    assert affinity["requiredDuringSchedulingIgnoredDuringExecution"] == {
        "nodeSelectorTerms": [{"matchFields": [
            {"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}
    assert affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    tolerations = pod["spec"]["tolerations"]
    assert [t["key"] for t in tolerations] == [
        "node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable",
        "node.kubernetes.io/disk-pressure", "node.kubernetes.io/memory-pressure",
        "node.kubernetes.io/pid-pressure", "node.kubernetes.io/unschedulable"]
    assert "tolerationSeconds" not in tolerations[0]  # replaced, as upstream's update
    assert "nodeName" not in pod["spec"]
    assert template["spec"]["tolerations"][0]["tolerationSeconds"] == 300  # not modified
    assert target_node({"spec": pod["spec"]}) == "n1"
    assert target_node({"spec": {**pod["spec"], "nodeName": "n2"}}) == "n2"
    assert target_node({"spec": {}}) is None
