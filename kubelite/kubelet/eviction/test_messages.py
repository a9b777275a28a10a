"""The words of evictions and of admission refusals, as upstream's kubelet writes them
(helpers.go evictionMessage, eviction_manager.go Admit; eviction_manager_test.go
TestAdmitUnderNodeConditions)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.eviction.messages import admit, eviction_message, is_critical
from kubelite.kubelet.eviction.signals import ContainerUsage, Observation, PodUsage
from kubelite.kubelet.eviction.thresholds import parse_thresholds

Obj = dict[str, Any]
Mi, Gi = 1 << 20, 1 << 30


def pod(requests: Obj | None = None, limits: Obj | None = None, **spec: Any) -> Obj:
    resources = {k: v for k, v in (("requests", requests), ("limits", limits)) if v}
    return {"metadata": {"name": "p", "uid": "u"},
            "spec": {"containers": [{"name": "app", "resources": resources}], **spec}}


@pytest.mark.parametrize("resource,thresholds,observed,usage,expected", [
    pytest.param("memory", "memory.available<100Mi", {"memory.available": Observation(50 * Mi, Gi)},
                 PodUsage((ContainerUsage("app", memory_working_set_bytes=300 * Mi),)),
                 "The node was low on resource: memory. Threshold quantity: 100Mi, available: "
                 "50Mi. Container app was using 300Mi, request is 0, has larger consumption of "
                 "memory. ", id="memory-with-the-container-above-its-request"),
    pytest.param("ephemeral-storage", "nodefs.available<10%",
                 {"nodefs.available": Observation(5 * Gi, 100 * Gi)},
                 PodUsage((ContainerUsage("app", rootfs_used_bytes=3 * Mi, logs_used_bytes=1000),)),
                 "The node was low on resource: ephemeral-storage. Threshold quantity: "
                 "10737418400, available: 5Gi. Container app was using 3146728, request is 0, "
                 "has larger consumption of ephemeral-storage. ", id="disk-percentage"),
    pytest.param("memory", "memory.available<100Mi", {}, None,
                 "The node was low on resource: memory. ", id="no-observation-no-stats"),
    pytest.param("inodes", "nodefs.inodesFree<5%",
                 {"nodefs.inodesFree": Observation(1000, 100000)}, PodUsage(),
                 "The node was low on resource: inodes. Threshold quantity: 5000, available: "
                 "1000. ", id="inodes-are-counts"),
])
def test_eviction_message(resource: str, thresholds: str, observed: dict[str, Observation],
                          usage: PodUsage | None, expected: str) -> None:
    assert eviction_message(resource, pod(), usage, parse_thresholds(thresholds),
                            observed) == expected


def test_a_container_within_its_request_is_not_named() -> None:
    usage = PodUsage((ContainerUsage("app", memory_working_set_bytes=100 * Mi),))
    message = eviction_message("memory", pod(requests={"memory": "128Mi"}), usage,
                               parse_thresholds("memory.available<1Gi"),
                               {"memory.available": Observation(Gi - 1, 4 * Gi)})
    assert message == ("The node was low on resource: memory. Threshold quantity: 1Gi, "
                       "available: 1073741823. ")


BEST_EFFORT = pod()
BURSTABLE = pod(requests={"memory": "100Mi"})
CRITICAL = pod(priority=2_000_001_000)
TOLERANT = pod(tolerations=[{"key": "node.kubernetes.io/memory-pressure",
                             "operator": "Exists", "effect": "NoSchedule"}])


@pytest.mark.parametrize("the_pod,conditions,expected", [
    pytest.param(BEST_EFFORT, [], None, id="no-pressure"),
    pytest.param(BEST_EFFORT, ["MemoryPressure"],
                 ("Evicted", "The node had condition: [MemoryPressure]. "),
                 id="memory-pressure-refuses-best-effort"),
    pytest.param(BURSTABLE, ["MemoryPressure"], None, id="memory-pressure-admits-burstable"),
    pytest.param(TOLERANT, ["MemoryPressure"], None,
                 id="memory-pressure-admits-a-tolerating-best-effort"),
    pytest.param(BURSTABLE, ["DiskPressure"],
                 ("Evicted", "The node had condition: [DiskPressure]. "),
                 id="disk-pressure-refuses-all"),
    pytest.param(TOLERANT, ["MemoryPressure", "DiskPressure"],
                 ("Evicted", "The node had condition: [MemoryPressure DiskPressure]. "),
                 id="both-refuse-even-the-tolerating"),
    pytest.param(CRITICAL, ["MemoryPressure", "DiskPressure"], None, id="critical-admitted"),
])
def test_admission_under_node_conditions(the_pod: Obj, conditions: list[str],
                                         expected: tuple[str, str] | None) -> None:
    assert admit(the_pod, conditions) == expected


@pytest.mark.parametrize("the_pod,critical", [
    pytest.param(pod(priority=2_000_000_000), True, id="system-cluster-critical"),
    pytest.param(pod(priority=1_999_999_999), False, id="below"),
    pytest.param({"metadata": {"annotations": {"kubernetes.io/config.source": "file"}}}, True,
                 id="static"),
    pytest.param({"metadata": {"annotations": {"kubernetes.io/config.mirror": "x"}}}, True,
                 id="mirror"),
])
def test_critical_pods(the_pod: Obj, critical: bool) -> None:
    assert is_critical(the_pod) is critical
