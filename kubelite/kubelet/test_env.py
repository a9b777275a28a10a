"""Environment variables and $(VAR) expansion, checked against upstream's expansion_test.go
and kubelet_pods_test.go outcomes."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet.env import EnvError, EnvSources, PodFacts, expand, make_environment
from kubelite.kubelet.service_env import service_env, services_for_pod

MAPPING = {"VAR_A": "A", "VAR_B": "B", "VAR_EMPTY": ""}


@pytest.mark.parametrize(("text", "expected"), [
    ("$(VAR_A)", "A"), ("___$(VAR_B)___", "___B___"), ("$(VAR_A)-$(VAR_A)", "A-A"),
    ("$(VAR_DNE)", "$(VAR_DNE)"), ("$$(VAR_A)", "$(VAR_A)"), ("$$$(VAR_A)", "$A"),
    ("$$$$(VAR_A)", "$$(VAR_A)"), ("$(VAR_A", "$(VAR_A"), ("$VAR_A", "$VAR_A"),
    ("f000-$$VAR_A", "f000-$VAR_A"), ("$(VAR_A)$", "A$"), ("$", "$"), ("$$", "$"),
    ("foo$(VAR_EMPTY)bar", "foobar"), ("$(VAR_A)$(VAR_B)", "AB"), ("", ""),
], ids=["whole", "inner", "twice", "undefined", "escaped", "escape-then-var",
        "double-escape", "unterminated", "no-parens", "escaped-no-parens", "trailing-dollar",
        "lone-dollar", "escaped-dollar", "empty-value", "adjacent", "empty"])
def test_expand(text: str, expected: str) -> None:
    assert expand(text, MAPPING) == expected


POD: dict[str, Any] = {
    "metadata": {"name": "web", "namespace": "shop", "uid": "u-1",
                 "labels": {"app": "web"}, "annotations": {"team": "blue"}},
    "spec": {"nodeName": "node-a", "serviceAccountName": "default"},
}
FACTS = PodFacts("192.0.2.1", ("10.42.0.5",), {"cpu": "4", "memory": "8Gi"})


def _env(container: dict[str, Any], sources: EnvSources | None = None,
         services: dict[str, str] | None = None) -> dict[str, str]:
    env, _ = make_environment(POD, {"name": "app", **container}, sources or EnvSources(),
                              FACTS, services or {})
    return dict(env)


@pytest.mark.parametrize(("path", "value"), [
    ("metadata.name", "web"), ("metadata.namespace", "shop"), ("metadata.uid", "u-1"),
    ("metadata.labels['app']", "web"), ("metadata.annotations['team']", "blue"),
    ("spec.nodeName", "node-a"), ("spec.serviceAccountName", "default"),
    ("status.hostIP", "192.0.2.1"), ("status.podIP", "10.42.0.5"),
    ("status.podIPs", "10.42.0.5"),
], ids=lambda v: str(v))
def test_field_refs(path: str, value: str) -> None:
    assert _env({"env": [{"name": "X", "valueFrom": {"fieldRef": {"fieldPath": path}}}]}) == {
        "X": value}


@pytest.mark.parametrize(("resources", "ref", "value"), [
    ({"limits": {"cpu": "250m"}}, {"resource": "limits.cpu"}, "1"),
    ({"limits": {"cpu": "250m"}}, {"resource": "limits.cpu", "divisor": "1m"}, "250"),
    ({}, {"resource": "limits.cpu"}, "4"),
    ({}, {"resource": "limits.memory", "divisor": "1Mi"}, "8192"),
    ({"requests": {"memory": "100Mi"}}, {"resource": "requests.memory", "divisor": "1Mi"}, "100"),
    ({"limits": {"memory": "1500Ki"}}, {"resource": "limits.memory", "divisor": "1Mi"}, "2"),
], ids=["cpu-rounds-up", "cpu-millis", "cpu-unset-is-allocatable",
        "memory-unset-is-allocatable", "memory-request", "memory-rounds-up"])
def test_resource_field_refs(resources: dict[str, Any], ref: dict[str, str], value: str) -> None:
    env = _env({"resources": resources,
                "env": [{"name": "X", "valueFrom": {"resourceFieldRef": ref}}]})
    assert env == {"X": value}


def test_env_from_then_env_with_expansion_and_services_last() -> None:
    sources = EnvSources(config_maps={"cfg": {"MODE": "fast", "1BAD": "x"}},
                         secrets={"creds": {"TOKEN": "s3cret"}})
    env, skipped = make_environment(POD, {
        "name": "app",
        "envFrom": [{"configMapRef": {"name": "cfg"}},
                    {"secretRef": {"name": "creds"}, "prefix": "DB_"}],
        "env": [{"name": "MODE", "value": "slow"},
                {"name": "URL", "value": "http://$(API_SERVICE_HOST)/$(MODE)"}],
    }, sources, FACTS, {"API_SERVICE_HOST": "10.43.0.9", "MODE": "from-service"})
    assert env == [("MODE", "slow"), ("DB_TOKEN", "s3cret"),
                   ("URL", "http://10.43.0.9/slow"), ("API_SERVICE_HOST", "10.43.0.9")]
    assert skipped == ["1BAD"]


@pytest.mark.parametrize(("container", "message"), [
    ({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k"}}}]},
     'configmap "nope" not found'),
    ({"env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}}]},
     "couldn't find key k in ConfigMap shop/cfg"),
    ({"env": [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k"}}}]},
     'secret "nope" not found'),
    ({"envFrom": [{"secretRef": {"name": "nope"}}]}, 'secret "nope" not found'),
], ids=["missing-config-map", "missing-key", "missing-secret", "missing-env-from"])
def test_missing_references_are_config_errors(container: dict[str, Any], message: str) -> None:
    with pytest.raises(EnvError, match=message):
        _env(container, EnvSources(config_maps={"cfg": {}, "nope": None}))


def test_optional_references_may_be_missing() -> None:
    assert _env({"envFrom": [{"configMapRef": {"name": "nope", "optional": True}}],
                 "env": [{"name": "X", "valueFrom": {"secretKeyRef": {
                     "name": "nope", "key": "k", "optional": True}}}]}) == {}


def _service(name: str, namespace: str, ip: str, *ports: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": namespace},
            "spec": {"clusterIP": ip, "ports": list(ports)}}


def test_service_variables_as_docker_links() -> None:
    env = service_env([_service("redis-primary", "shop", "10.43.0.11",
                                {"name": "db", "port": 6379, "protocol": "TCP"},
                                {"port": 9121, "protocol": "UDP"})])
    assert env == {
        "REDIS_PRIMARY_SERVICE_HOST": "10.43.0.11", "REDIS_PRIMARY_SERVICE_PORT": "6379",
        "REDIS_PRIMARY_SERVICE_PORT_DB": "6379",
        "REDIS_PRIMARY_PORT": "tcp://10.43.0.11:6379",
        "REDIS_PRIMARY_PORT_6379_TCP": "tcp://10.43.0.11:6379",
        "REDIS_PRIMARY_PORT_6379_TCP_PROTO": "tcp", "REDIS_PRIMARY_PORT_6379_TCP_PORT": "6379",
        "REDIS_PRIMARY_PORT_6379_TCP_ADDR": "10.43.0.11",
        "REDIS_PRIMARY_PORT_9121_UDP": "udp://10.43.0.11:9121",
        "REDIS_PRIMARY_PORT_9121_UDP_PROTO": "udp", "REDIS_PRIMARY_PORT_9121_UDP_PORT": "9121",
        "REDIS_PRIMARY_PORT_9121_UDP_ADDR": "10.43.0.11",
    }


SERVICES = [_service("kubernetes", "default", "10.43.0.1", {"name": "https", "port": 443}),
            _service("web", "shop", "10.43.0.20", {"port": 80}),
            _service("headless", "shop", "None", {"port": 80}),
            _service("other", "elsewhere", "10.43.0.30", {"port": 80})]


@pytest.mark.parametrize(("links", "names"), [
    (None, ["kubernetes", "web"]), (True, ["kubernetes", "web"]), (False, ["kubernetes"]),
], ids=["default-on", "on", "off-keeps-master"])
def test_which_services_a_pod_sees(links: bool | None, names: list[str]) -> None:
    pod = {"metadata": {"namespace": "shop"},
           "spec": {} if links is None else {"enableServiceLinks": links}}
    assert [s["metadata"]["name"] for s in services_for_pod(pod, SERVICES)] == names
