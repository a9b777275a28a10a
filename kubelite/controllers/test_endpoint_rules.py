"""Endpoint conditions, membership and port resolution, as upstream's podToEndpoint,
ShouldPodBeInEndpoints and FindPort decide them."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.endpoint_rules import (
    address_of, conditions, endpoint_ports, find_port, hostname_for, should_be_in_endpoints)

Obj = dict[str, Any]
READY = [{"type": "Ready", "status": "True"}]
NOT_READY = [{"type": "Ready", "status": "False"}]


def pod(*, ready: bool = True, deleting: bool = False, phase: str = "Running",
        ip: str | None = "10.0.0.1", **spec: Any) -> Obj:
    metadata: Obj = {"name": "p", "namespace": "default"}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status: Obj = {"phase": phase, "conditions": READY if ready else NOT_READY}
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    return {"metadata": metadata, "spec": {"containers": [{"name": "c"}], **spec},
            "status": status}


def service(**spec: Any) -> Obj:
    return {"metadata": {"name": "svc", "namespace": "default"},
            "spec": {"selector": {"app": "x"}, **spec}}


@pytest.mark.parametrize("p, publish, expected", [
    pytest.param(pod(), False, (True, True, False), id="ready"),
    pytest.param(pod(ready=False), False, (False, False, False), id="not-ready"),
    pytest.param(pod(deleting=True), False, (False, True, True), id="terminating-still-serving"),
    pytest.param(pod(ready=False, deleting=True), False, (False, False, True),
                 id="terminating-not-serving"),
    pytest.param(pod(ready=False), True, (True, False, False), id="publish-not-ready"),
    pytest.param(pod(deleting=True), True, (True, True, True), id="publish-not-ready-terminating"),
])
def test_endpoint_conditions(p: Obj, publish: bool, expected: tuple[bool, bool, bool]) -> None:
    got = conditions(p, service(publishNotReadyAddresses=publish))
    assert (got["ready"], got["serving"], got["terminating"]) == expected


@pytest.mark.parametrize("p, include_terminating, expected", [
    pytest.param(pod(), False, True, id="running-with-ip"),
    pytest.param(pod(ip=None), True, False, id="no-ip"),
    pytest.param(pod(phase="Succeeded"), True, False, id="succeeded"),
    pytest.param(pod(phase="Failed"), True, False, id="failed"),
    pytest.param(pod(deleting=True), True, True, id="terminating-included"),
    pytest.param(pod(deleting=True), False, False, id="terminating-excluded"),
    pytest.param(pod(ready=False), False, True, id="not-ready-still-counts"),
])
def test_which_pods_are_endpoints(p: Obj, include_terminating: bool, expected: bool) -> None:
    assert should_be_in_endpoints(p, include_terminating) is expected


WEB = {"name": "c", "ports": [{"name": "http", "containerPort": 8080},
                              {"name": "dns", "containerPort": 53, "protocol": "UDP"}]}


@pytest.mark.parametrize("containers, service_port, expected", [
    pytest.param([WEB], {"port": 80, "targetPort": 9000}, 9000, id="number"),
    pytest.param([WEB], {"port": 80}, 80, id="defaults-to-port"),
    pytest.param([WEB], {"port": 80, "targetPort": "http"}, 8080, id="named"),
    pytest.param([WEB], {"port": 80, "targetPort": "8081"}, 8081, id="numeric-string"),
    pytest.param([WEB], {"port": 53, "targetPort": "dns"}, None, id="named-other-protocol"),
    pytest.param([WEB], {"port": 53, "targetPort": "dns", "protocol": "UDP"}, 53,
                 id="named-same-protocol"),
    pytest.param([{"name": "c"}], {"port": 80, "targetPort": "http"}, None, id="named-missing"),
])
def test_find_port(containers: list[Obj], service_port: Obj, expected: int | None) -> None:
    assert find_port(pod(containers=containers), service_port) == expected


def test_a_sidecar_init_container_port_resolves_but_a_plain_one_does_not() -> None:
    sidecar = {"name": "s", "restartPolicy": "Always",
               "ports": [{"name": "metrics", "containerPort": 9090}]}
    plain = {"name": "i", "ports": [{"name": "setup", "containerPort": 7070}]}
    p = pod(initContainers=[sidecar, plain])
    assert find_port(p, {"port": 1, "targetPort": "metrics"}) == 9090
    assert find_port(p, {"port": 1, "targetPort": "setup"}) is None


def test_endpoint_ports_leave_out_ports_the_pod_lacks() -> None:
    svc = service(ports=[{"name": "web", "port": 80, "targetPort": "http", "protocol": "TCP",
                          "appProtocol": "http"},
                         {"name": "admin", "port": 81, "targetPort": "admin", "protocol": "TCP"}])
    assert endpoint_ports(svc, pod(containers=[WEB])) == [
        {"name": "web", "port": 8080, "protocol": "TCP", "appProtocol": "http"}]


@pytest.mark.parametrize("ips, address_type, expected", [
    pytest.param(["10.0.0.1"], "IPv4", "10.0.0.1", id="v4"),
    pytest.param(["10.0.0.1", "fd00::1"], "IPv6", "fd00::1", id="dual-stack-v6"),
    pytest.param(["fd00::1"], "IPv4", None, id="no-v4"),
])
def test_address_of_the_slice_family(ips: list[str], address_type: str,
                                     expected: str | None) -> None:
    p = pod()
    p["status"]["podIPs"] = [{"ip": ip} for ip in ips]
    assert address_of(p, address_type) == expected


@pytest.mark.parametrize("spec, expected", [
    pytest.param({"hostname": "h", "subdomain": "svc"}, "h", id="subdomain-is-service"),
    pytest.param({"hostname": "h", "subdomain": "other"}, None, id="other-subdomain"),
    pytest.param({"subdomain": "svc"}, None, id="no-hostname"),
])
def test_hostname_only_under_the_services_subdomain(spec: Obj, expected: str | None) -> None:
    assert hostname_for(pod(**spec), service()) == expected
