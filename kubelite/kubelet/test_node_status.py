"""The node's status: allocatable as upstream's capacity minus reservations and eviction
thresholds, Ready from the runtime's conditions."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.image_puller import pull_policy
from kubelite.kubelet.node_status import HostFacts, allocatable, capacity, node_conditions
from kubelite.machinery.quantity import parse_quantity

FACTS = HostFacts(cpus=4, memory_bytes=8 << 30, storage_bytes=100 << 30, node_ip="192.0.2.1",
                  hostname="h", architecture="amd64", kernel="6", os_image="Debian",
                  machine_id="m", boot_id="b")
NOW = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)


def test_capacity_and_default_allocatable() -> None:
    config = KubeletConfig(node_name="n", root_dir=Path("/tmp"))
    assert capacity(FACTS, config) == {"cpu": "4", "memory": "8388608Ki",
                                       "ephemeral-storage": "104857600Ki", "pods": "110",
                                       "hugepages-1Gi": "0", "hugepages-2Mi": "0"}
    got = allocatable(FACTS, config)
    assert got["cpu"] == "4" and got["pods"] == "110"
    assert parse_quantity(got["memory"]) == parse_quantity("8Gi") - parse_quantity("100Mi")
    # less 10%, which upstream takes as float32(0.1): 10737418400 bytes of 100Gi
    assert parse_quantity(got["ephemeral-storage"]).value() == 100 * (1 << 30) - 10737418400


def test_reservations_come_off_allocatable() -> None:
    config = KubeletConfig(node_name="n", root_dir=Path("/tmp"),
                           system_reserved=(("cpu", "500m"), ("memory", "1Gi")),
                           kube_reserved=(("cpu", "500m"),))
    got = allocatable(FACTS, config)
    assert got["cpu"] == "3"
    assert parse_quantity(got["memory"]) == parse_quantity("7Gi") - parse_quantity("100Mi")


@pytest.mark.parametrize(("conditions", "expected"), [
    ([cri.RuntimeCondition("RuntimeReady", True), cri.RuntimeCondition("NetworkReady", True)],
     ("True", "KubeletReady")),
    ([cri.RuntimeCondition("RuntimeReady", False)], ("False", "KubeletNotReady")),
    ([cri.RuntimeCondition("RuntimeReady", True),
      cri.RuntimeCondition("NetworkReady", False, "NoPodCIDR", "no pod CIDR yet")],
     ("False", "KubeletNotReady")),
], ids=["ready", "runtime-down", "network-not-ready"])
def test_ready_follows_the_runtime(conditions: list[cri.RuntimeCondition],
                                   expected: tuple[str, str]) -> None:
    got = {c["type"]: c for c in node_conditions(conditions, [], NOW)}
    assert (got["Ready"]["status"], got["Ready"]["reason"]) == expected
    assert got["MemoryPressure"]["status"] == "False"


def test_transition_times_are_kept_while_the_status_holds() -> None:
    ready = [cri.RuntimeCondition("RuntimeReady", True)]
    first = node_conditions(ready, [], NOW)
    later = node_conditions(ready, first, NOW + datetime.timedelta(minutes=5))
    assert [c["lastTransitionTime"] for c in later] == [c["lastTransitionTime"] for c in first]
    assert later[0]["lastHeartbeatTime"] != first[0]["lastHeartbeatTime"]


@pytest.mark.parametrize(("container", "policy"), [
    ({"image": "busybox"}, "Always"), ({"image": "busybox:latest"}, "Always"),
    ({"image": "busybox:1.36"}, "IfNotPresent"), ({"image": "busybox@sha256:ab"}, "IfNotPresent"),
    ({"image": "localhost:5000/app"}, "Always"), ({"image": "localhost:5000/app:v1"}, "IfNotPresent"),
    ({"image": "busybox", "imagePullPolicy": "Never"}, "Never"),
], ids=["untagged", "latest", "tagged", "digest", "registry-port-untagged", "registry-port-tagged",
        "explicit"])
def test_pull_policy_defaults(container: dict[str, str], policy: str) -> None:
    assert pull_policy(container) == policy


@pytest.mark.parametrize("pressure,expected", [
    pytest.param((), {"MemoryPressure": ("False", "KubeletHasSufficientMemory"),
                      "DiskPressure": ("False", "KubeletHasNoDiskPressure"),
                      "PIDPressure": ("False", "KubeletHasSufficientPID")}, id="none"),
    pytest.param(("MemoryPressure", "PIDPressure"),
                 {"MemoryPressure": ("True", "KubeletHasInsufficientMemory"),
                  "DiskPressure": ("False", "KubeletHasNoDiskPressure"),
                  "PIDPressure": ("True", "KubeletHasInsufficientPID")}, id="memory-and-pids"),
    pytest.param(("DiskPressure",),
                 {"MemoryPressure": ("False", "KubeletHasSufficientMemory"),
                  "DiskPressure": ("True", "KubeletHasDiskPressure"),
                  "PIDPressure": ("False", "KubeletHasSufficientPID")}, id="disk"),
])
def test_pressure_conditions_as_upstreams_setters(pressure: tuple[str, ...],
                                                  expected: dict[str, tuple[str, str]]) -> None:
    got = {c["type"]: (c["status"], c["reason"])
           for c in node_conditions([], [], NOW, pressure) if c["type"] != "Ready"}
    assert got == expected


def test_allocatable_follows_the_hard_thresholds_given() -> None:
    config = KubeletConfig(node_name="n", root_dir=Path("/tmp"),
                           eviction_hard="memory.available<1Gi,nodefs.available<1Gi")
    got = allocatable(FACTS, config)
    assert parse_quantity(got["memory"]) == parse_quantity("7Gi")
    assert parse_quantity(got["ephemeral-storage"]) == parse_quantity("99Gi")
