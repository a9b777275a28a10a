from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)
CREATED = (NOW - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(group: str, kind: str, obj: dict) -> list:
    obj = {"metadata": {"name": "x", "creationTimestamp": CREATED}, **obj}
    return table_for(group, kind, [obj], now=NOW)["rows"][0]["cells"]


@pytest.mark.parametrize(
    ("spec", "status", "want"),
    [
        ({}, {}, ["<none>", "*", "", "80", "15m"]),
        (
            {"ingressClassName": "traefik", "rules": [{"host": "a.example.com"}, {}], "tls": [{"hosts": ["a.example.com"]}]},
            {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}, {"ip": "10.0.0.1"}]}},
            ["traefik", "a.example.com", "10.0.0.1,10.0.0.9", "80, 443", "15m"],
        ),
        (
            {"rules": [{"host": f"h{i}"} for i in range(5)]},
            {},
            ["<none>", "h0,h1,h2 + 2 more...", "", "80", "15m"],
        ),
    ],
    ids=["empty", "class-tls-address", "many-hosts"],
)
def test_ingress_cells(spec: dict, status: dict, want: list) -> None:
    assert row("networking.k8s.io", "Ingress", {"spec": spec, "status": status}) == ["x", *want]


@pytest.mark.parametrize(
    ("parameters", "want"),
    [
        (None, "<none>"),
        ({"kind": "Params", "name": "p"}, "Params/p"),
        ({"kind": "Params", "apiGroup": "example.com", "name": "p"}, "Params.example.com/p"),
    ],
    ids=["none", "core", "group"],
)
def test_ingress_class_cells(parameters: dict | None, want: str) -> None:
    spec = {"controller": "traefik.io/ingress-controller"}
    if parameters is not None:
        spec["parameters"] = parameters
    assert row("networking.k8s.io", "IngressClass", {"spec": spec}) == ["x", "traefik.io/ingress-controller", want, "15m"]


def test_network_policy_cells() -> None:
    assert row("networking.k8s.io", "NetworkPolicy", {"spec": {"podSelector": {}}}) == ["x", "<none>", "15m"]
    spec = {"podSelector": {"matchLabels": {"role": "db"}}}
    assert row("networking.k8s.io", "NetworkPolicy", {"spec": spec}) == ["x", "role=db", "15m"]


@pytest.mark.parametrize(
    ("ports", "endpoints", "want_ports", "want_endpoints"),
    [
        ([], [], "<unset>", "<unset>"),
        ([{"port": 80, "name": "http"}, {"name": "dns"}, {}], [{"addresses": ["10.42.0.1"]}], "80,dns,*", "10.42.0.1"),
        (
            [{"port": p} for p in (1, 2, 3, 4, 5)],
            [{"addresses": [f"10.42.0.{i}"]} for i in range(1, 6)],
            "1,2,3 + 2 more...",
            "10.42.0.1,10.42.0.2,10.42.0.3 + 2 more...",
        ),
    ],
    ids=["empty", "named-and-wildcard", "more"],
)
def test_endpoint_slice_cells(ports: list, endpoints: list, want_ports: str, want_endpoints: str) -> None:
    obj = {"addressType": "IPv4", "ports": ports, "endpoints": endpoints}
    assert row("discovery.k8s.io", "EndpointSlice", obj) == ["x", "IPv4", want_ports, want_endpoints, "15m"]


def test_service_cidr_and_ip_address_cells() -> None:
    assert row("networking.k8s.io", "ServiceCIDR", {"spec": {"cidrs": ["10.43.0.0/16", "fd00::/108"]}}) == [
        "x",
        "10.43.0.0/16,fd00::/108",
        "15m",
    ]
    ref = {"group": "", "resource": "services", "namespace": "default", "name": "kubernetes"}
    # Upstream prints an age cell here without declaring an Age column.
    assert row("networking.k8s.io", "IPAddress", {"spec": {"parentRef": ref}}) == ["x", "services/default/kubernetes", "15m"]
