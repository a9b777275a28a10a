from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(group: str, kind: str, obj: dict) -> list:
    return table_for(group, kind, [obj], now=NOW)["rows"][0]["cells"]


def columns(group: str, kind: str) -> list[tuple]:
    return [(c["name"], c["type"], c["priority"]) for c in table_for(group, kind, [], now=NOW)["columnDefinitions"]]


def svc(type_: str | None, **spec) -> dict:
    spec = dict(spec)
    if type_ is not None:
        spec["type"] = type_
    return {"metadata": {"name": "svc", "creationTimestamp": ago(120)}, "spec": spec, "status": spec.pop("status", {})}


@pytest.mark.parametrize(
    ("obj", "want"),
    [
        pytest.param(
            svc(
                "ClusterIP",
                clusterIP="10.43.0.10",
                clusterIPs=["10.43.0.10"],
                ports=[{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                selector={"k8s-app": "dns"},
            ),
            ["svc", "ClusterIP", "10.43.0.10", "<none>", "53/UDP,53/TCP", "2m", "k8s-app=dns"],
            id="cluster-ip",
        ),
        pytest.param(
            svc(
                "NodePort",
                clusterIP="10.43.0.11",
                ports=[{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 443, "protocol": "TCP"}],
            ),
            ["svc", "NodePort", "10.43.0.11", "<none>", "80:30080/TCP,443/TCP", "2m", "<none>"],
            id="node-port",
        ),
        pytest.param(
            svc("LoadBalancer", clusterIP="10.43.0.12", ports=[{"port": 80, "nodePort": 31000}]),
            ["svc", "LoadBalancer", "10.43.0.12", "<pending>", "80:31000/TCP", "2m", "<none>"],
            id="load-balancer-pending",
        ),
        pytest.param(
            svc(
                "LoadBalancer",
                clusterIP="10.43.0.12",
                externalIPs=["3.3.3.3"],
                ports=[{"port": 80, "nodePort": 31000, "protocol": "TCP"}],
                status={"loadBalancer": {"ingress": [{"ip": "2.2.2.2"}, {"hostname": "lb.example.com"}, {"ip": "1.1.1.1"}]}},
            ),
            ["svc", "LoadBalancer", "10.43.0.12", "1.1.1.1,2.2.2.2,lb.example.com,3.3.3.3", "80:31000/TCP", "2m", "<none>"],
            id="load-balancer-ingress-untruncated",
        ),
        pytest.param(
            svc("ExternalName", externalName="example.com"),
            ["svc", "ExternalName", "<none>", "example.com", "<none>", "2m", "<none>"],
            id="external-name",
        ),
        pytest.param(
            svc("ClusterIP", clusterIP="None", externalIPs=["1.2.3.4", "5.6.7.8"], ports=[{"port": 80, "protocol": "TCP"}]),
            ["svc", "ClusterIP", "None", "1.2.3.4,5.6.7.8", "80/TCP", "2m", "<none>"],
            id="headless-with-external-ips",
        ),
    ],
)
def test_service_cells(obj: dict, want: list) -> None:
    assert row("", "Service", obj) == want


def test_service_columns() -> None:
    assert columns("", "Service") == [
        ("Name", "string", 0),
        ("Type", "string", 0),
        ("Cluster-IP", "string", 0),
        ("External-IP", "string", 0),
        ("Port(s)", "string", 0),
        ("Age", "string", 0),
        ("Selector", "string", 1),
    ]


@pytest.mark.parametrize(
    ("subsets", "want"),
    [
        ([], "<none>"),
        ([{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}], "10.0.0.1:80"),
        ([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}], "10.0.0.1,10.0.0.2"),
        ([{"addresses": [{"ip": "fd00::1"}], "ports": [{"port": 443}]}], "[fd00::1]:443"),
        (
            [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(1, 5)], "ports": [{"port": 80}, {"port": 81}]}],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 5 more...",
        ),
        ([{"notReadyAddresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}], ""),
    ],
    ids=["none", "one", "headless", "ipv6", "more", "only-not-ready"],
)
def test_endpoints_cells(subsets: list, want: str) -> None:
    obj = {"metadata": {"name": "ep", "creationTimestamp": ago(30)}, "subsets": subsets}
    assert row("", "Endpoints", obj) == ["ep", want, "30s"]


def node(**changes) -> dict:
    obj = {
        "metadata": {"name": "n1", "creationTimestamp": ago(49 * 3600), "labels": {}},
        "spec": {},
        "status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "nodeInfo": {
                "kubeletVersion": "v1.35.0+kubelite.1",
                "osImage": "Debian GNU/Linux 12",
                "kernelVersion": "6.1.0",
                "containerRuntimeVersion": "runc://1.1.12",
            },
            "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "n1"}],
        },
    }
    for key, value in changes.items():
        section, _, field = key.partition("__")
        obj[section][field] = value
    return obj


@pytest.mark.parametrize(
    ("obj", "want_status", "want_roles"),
    [
        (node(), "Ready", "<none>"),
        (node(status__conditions=[{"type": "Ready", "status": "False"}]), "NotReady", "<none>"),
        (node(status__conditions=[]), "Unknown", "<none>"),
        (node(spec__unschedulable=True), "Ready,SchedulingDisabled", "<none>"),
        (
            node(
                metadata__labels={
                    "node-role.kubernetes.io/control-plane": "",
                    "node-role.kubernetes.io/master": "",
                    "kubernetes.io/role": "etcd",
                    "node-role.kubernetes.io/": "ignored",
                }
            ),
            "Ready",
            "control-plane,etcd,master",
        ),
    ],
    ids=["ready", "not-ready", "unknown", "cordoned", "roles"],
)
def test_node_status_and_roles(obj: dict, want_status: str, want_roles: str) -> None:
    cells = row("", "Node", obj)
    assert cells[1:3] == [want_status, want_roles]


def test_node_wide_cells() -> None:
    assert row("", "Node", node()) == [
        "n1",
        "Ready",
        "<none>",
        "2d1h",
        "v1.35.0+kubelite.1",
        "192.168.1.10",
        "<none>",
        "Debian GNU/Linux 12",
        "6.1.0",
        "runc://1.1.12",
    ]
    bare = row("", "Node", {"metadata": {"name": "n"}})
    assert bare == ["n", "Unknown", "<none>", "<unknown>", "", "<none>", "<none>", "<unknown>", "<unknown>", "<unknown>"]


@pytest.mark.parametrize(
    ("kind", "obj", "want"),
    [
        ("Namespace", {"status": {"phase": "Active"}}, ["Active"]),
        ("Secret", {"type": "Opaque", "data": {"a": "YQ==", "b": "Yg=="}}, ["Opaque", 2]),
        ("ServiceAccount", {"secrets": [{"name": "tok"}]}, [1]),
        ("ServiceAccount", {}, [0]),
        ("ConfigMap", {"data": {"a": "1"}, "binaryData": {"b": "AA=="}}, [2]),
        ("ConfigMap", {}, [0]),
    ],
    ids=["namespace", "secret", "serviceaccount", "serviceaccount-empty", "configmap", "configmap-empty"],
)
def test_small_core_kinds(kind: str, obj: dict, want: list) -> None:
    obj = {"metadata": {"name": "x", "creationTimestamp": ago(10)}, **obj}
    assert row("", kind, obj) == ["x", *want, "10s"]


def test_replication_controller_cells() -> None:
    obj = {
        "metadata": {"name": "rc", "creationTimestamp": ago(600)},
        "spec": {
            "replicas": 3,
            "selector": {"app": "web"},
            "template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}},
        },
        "status": {"replicas": 3, "readyReplicas": 2},
    }
    assert row("", "ReplicationController", obj) == ["rc", 3, 3, 2, "10m", "web", "nginx:1.27", "app=web"]


def test_resource_quota_splits_requests_and_limits() -> None:
    obj = {
        "metadata": {"name": "quota", "creationTimestamp": ago(60)},
        "status": {
            "hard": {"pods": "10", "requests.cpu": "2", "limits.memory": "2Gi", "limits.cpu": "4"},
            "used": {"pods": "3", "requests.cpu": "500m", "limits.cpu": "1"},
        },
    }
    assert row("", "ResourceQuota", obj) == [
        "quota",
        "pods: 3/10, requests.cpu: 500m/2",
        "limits.cpu: 1/4, limits.memory: 0/2Gi",
        "60s",
    ]


def test_component_status_cells() -> None:
    obj = {"metadata": {"name": "etcd-0"}, "conditions": [{"type": "Healthy", "status": "True", "message": "ok"}]}
    assert row("", "ComponentStatus", obj) == ["etcd-0", "Healthy", "ok", ""]
