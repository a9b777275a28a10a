"""What configMap, secret and downwardAPI sources project, checked against upstream's
MakePayload and CollectData outcomes."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from kubelite.kubelet.volumes.atomic_writer import FileProjection
from kubelite.kubelet.volumes.downward import field_value, format_map, resource_value
from kubelite.kubelet.volumes.payload import (
    config_map_payload,
    default_mode,
    downward_payload,
    secret_payload,
)

CM = {"data": {"a": "x", "b": "y"}}


@pytest.mark.parametrize("items,optional,expected", [
    ([], False, {"a": FileProjection(b"x", 0o644), "b": FileProjection(b"y", 0o644)}),
    ([{"key": "a", "path": "p/a"}], False, {"p/a": FileProjection(b"x", 0o644)}),
    ([{"key": "b", "path": "b", "mode": 0o400}], False, {"b": FileProjection(b"y", 0o400)}),
    ([{"key": "a", "path": "a"}, {"key": "zz", "path": "zz"}], True,
     {"a": FileProjection(b"x", 0o644)}),
], ids=["all-keys-default-mode", "item-path", "item-mode", "optional-skips-missing-key"])
def test_config_map_payload(items: list[dict[str, Any]], optional: bool,
                            expected: dict[str, FileProjection]) -> None:
    assert config_map_payload(CM, items, 0o644, optional) == expected


def test_missing_keys_fail_with_upstreams_words() -> None:
    with pytest.raises(ValueError, match="^configmap references non-existent config key: zz$"):
        config_map_payload(CM, [{"key": "zz", "path": "zz"}], 0o644, False)
    with pytest.raises(ValueError, match="^references non-existent secret key: zz$"):
        secret_payload({"data": {}}, [{"key": "zz", "path": "zz"}], 0o644, False)


def test_secret_data_is_decoded() -> None:
    secret = {"data": {"k": base64.b64encode(b"\xffbytes").decode()}}
    assert secret_payload(secret, [], 0o400, False) == {"k": FileProjection(b"\xffbytes", 0o400)}


@pytest.mark.parametrize("source,mode", [
    ({}, 0o644), ({"defaultMode": 0o755}, 0o755), ({"defaultMode": 420}, 0o644),
    ({"defaultMode": "x"}, 0o644),
], ids=["unset", "octal", "api-decimal", "garbage"])
def test_default_mode(source: dict[str, Any], mode: int) -> None:
    assert default_mode(source) == mode


POD = {"metadata": {"name": "p", "namespace": "ns", "uid": "u",
                    "labels": {"b": "2", "a": "1"}, "annotations": {"q": 'x"y\\z\n\t'}},
       "spec": {"nodeName": "n1", "serviceAccountName": "sa", "containers": [
           {"name": "c", "resources": {"limits": {"cpu": "1500m"},
                                       "requests": {"memory": "100Mi", "cpu": "10m"}}}]},
       "status": {"podIP": "10.0.0.5", "podIPs": [{"ip": "10.0.0.5"}, {"ip": "fd00::5"}]}}


@pytest.mark.parametrize("path,value", [
    ("metadata.name", "p"), ("metadata.namespace", "ns"), ("metadata.uid", "u"),
    ("metadata.labels", 'a="1"\nb="2"'), ("metadata.labels['b']", "2"),
    ("metadata.labels['none']", ""), ("metadata.annotations", 'q="x\\"y\\\\z\\n\\t"'),
    ("spec.nodeName", "n1"), ("spec.serviceAccountName", "sa"), ("status.podIP", "10.0.0.5"),
    ("status.podIPs", "10.0.0.5,fd00::5"),
], ids=lambda v: str(v))
def test_field_values(path: str, value: str) -> None:
    assert field_value(POD, path) == value


def test_format_map_of_nothing_is_empty() -> None:
    assert format_map({}) == ""


@pytest.mark.parametrize("resource,divisor,value", [
    ("limits.cpu", "", "2"), ("limits.cpu", "1m", "1500"), ("requests.cpu", "1m", "10"),
    ("requests.memory", "1Mi", "100"), ("requests.memory", "", str(100 << 20)),
    ("limits.memory", "1Gi", "8"),  # no limit: the node's allocatable
], ids=["cpu-rounded-up", "cpu-milli", "request", "memory-mi", "memory-bytes",
        "allocatable-stands-in"])
def test_resource_values(resource: str, divisor: str, value: str) -> None:
    ref = {"resource": resource, **({"divisor": divisor} if divisor else {})}
    assert resource_value(ref, POD, "c", {"memory": "8Gi", "cpu": "4"}) == value


@pytest.mark.parametrize("ref,container,message", [
    ({"resource": "limits.cpu"}, "nope", "container nope not found"),
    ({"resource": "limits.gpu"}, "c", "unsupported container resource : limits.gpu"),
], ids=["unknown-container", "unknown-resource"])
def test_resource_errors(ref: dict[str, Any], container: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        resource_value(ref, POD, container, {})
    assert str(caught.value) == message


def test_downward_items_take_their_modes_and_fail_together() -> None:
    items = [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o400},
             {"path": "l", "fieldRef": {"fieldPath": "metadata.labels"}}]
    assert downward_payload(items, POD, 0o644, {}) == {
        "n": FileProjection(b"p", 0o400), "l": FileProjection(b'a="1"\nb="2"', 0o644)}
    with pytest.raises(ValueError, match="^unsupported fieldPath: x, unsupported fieldPath: y$"):
        downward_payload([{"path": "a", "fieldRef": {"fieldPath": "x"}},
                          {"path": "b", "fieldRef": {"fieldPath": "y"}}], POD, 0o644, {})
