from __future__ import annotations

import datetime
import ipaddress

import pytest

from kubelite.kubelet.simulated.nodes import NodeConfig, lease_object, node_object

NOW = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC)


def test_node_object_has_the_kubelets_fields() -> None:
    node = node_object(NodeConfig(count=5), 4, NOW)
    assert node["metadata"]["name"] == "sim-4"
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "sim-4"
    assert labels["topology.kubernetes.io/zone"] == "zone-b"
    assert labels["type"] == "kubelite-simulated"
    assert node["spec"]["podCIDR"] == "10.42.4.0/24"
    status = node["status"]
    assert status["capacity"]["cpu"] == "32" and status["allocatable"]["pods"] == "110"
    ready = status["conditions"][-1]
    assert (ready["type"], ready["status"], ready["reason"]) == ("Ready", "True", "KubeletReady")
    assert ready["lastHeartbeatTime"] == "2026-01-02T03:04:05Z"
    assert status["nodeInfo"]["containerRuntimeVersion"] == "simulated://1"
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}


def test_pod_cidrs_are_distinct_and_inside_the_cluster_cidr() -> None:
    config = NodeConfig(count=256)
    cidrs = {config.pod_cidr(i) for i in range(256)}
    assert len(cidrs) == 256
    assert all(c.subnet_of(ipaddress.IPv4Network("10.42.0.0/16")) for c in cidrs)


@pytest.mark.parametrize("options", [
    {"count": 257}, {"count": -1}, {"cluster_cidr": "10.42.0.1/16"},
    {"cluster_cidr": "fd00::/64"}, {"node_cidr_mask": 8}, {"renew_interval": 0},
], ids=["too-many-for-cidr", "negative-count", "host-bits-set", "ipv6", "mask-too-wide",
        "zero-interval"])
def test_config_refuses_what_cannot_work(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        NodeConfig(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name, index", [
    ("sim-0", 0), ("sim-9", 9), ("sim-10", None), ("sim-01", None), ("other-1", None),
    ("sim-", None), ("sim--1", None),
], ids=["first", "last", "beyond", "leading-zero", "other-prefix", "no-digits", "negative"])
def test_index_of_knows_only_its_own_nodes(name: str, index: int | None) -> None:
    assert NodeConfig(count=10).index_of(name) == index


def test_lease_is_held_by_the_node_for_forty_seconds() -> None:
    lease = lease_object(NodeConfig(count=1), "sim-0", "uid-0", NOW)
    assert lease["metadata"]["namespace"] == "kube-node-lease"
    assert lease["metadata"]["ownerReferences"][0]["uid"] == "uid-0"
    assert lease["spec"] == {"holderIdentity": "sim-0", "leaseDurationSeconds": 40,
                             "renewTime": "2026-01-02T03:04:05.678901Z"}
