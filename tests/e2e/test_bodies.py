"""Mistyped request bodies are refused before anything is stored, in upstream's words.

Built-in kinds answer 400 with the Go decoder's message (POST, PUT, apply) or 422 on
`patch` (JSON, merge and strategic merge patches); custom resources answer 422 from
their CRD schema, and 400 for metadata that does not decode as ObjectMeta. Driven
through raw HTTP and the official `kubernetes` client.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
from kubernetes import client, config, dynamic
from kubernetes.client.rest import ApiException

from tests.cluster import Cluster, call

CM_PREFIX = 'ConfigMap in version "v1" cannot be handled as a ConfigMap: '


@pytest.fixture
def ns(cluster: Cluster) -> str:
    name = f"b-{uuid.uuid4().hex[:8]}"
    code, _ = call(cluster, "POST", "/api/v1/namespaces",
                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert code == 201
    return name


def configmap(name: str, **fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, **fields}


MISTYPED_CONFIGMAPS = [
    ("data-array", configmap("x", data=[]),
     "json: cannot unmarshal array into Go struct field ConfigMap.data of type "
     "map[string]string"),
    ("data-value-number", configmap("x", data={"a": 1}),
     "json: cannot unmarshal number into Go struct field ConfigMap.data of type string"),
    ("name-array", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ["x"]}},
     "json: cannot unmarshal array into Go struct field ObjectMeta.metadata.name of type "
     "string"),
    ("binary-data-not-base64", configmap("x", binaryData={"a": "a!"}),
     "illegal base64 data at input byte 1"),
]


@pytest.mark.parametrize("body,message", [c[1:] for c in MISTYPED_CONFIGMAPS],
                         ids=[c[0] for c in MISTYPED_CONFIGMAPS])
def test_mistyped_configmap_is_a_400_and_stores_nothing(cluster: Cluster, ns: str,
                                                       body: dict[str, Any],
                                                       message: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    code, status = call(cluster, "POST", base, body)
    assert (code, status["reason"], status["message"]) == (400, "BadRequest",
                                                           CM_PREFIX + message)
    code, status = call(cluster, "POST", base + "?fieldValidation=Strict", body)
    assert (code, status["message"]) == (400, CM_PREFIX + message)
    assert call(cluster, "GET", base)[1]["items"] == []
    # An update with the same body leaves the stored object as it was.
    code, stored = call(cluster, "POST", base, configmap("x", data={"k": "v"}))
    assert code == 201
    code, status = call(cluster, "PUT", f"{base}/x", body)
    assert (code, status["message"]) == (400, CM_PREFIX + message)
    assert call(cluster, "GET", f"{base}/x")[1] == stored


def test_null_fields_decode_to_go_zero_values(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    code, obj = call(cluster, "POST", base, configmap("n", data={"a": None, "b": "x"},
                                                      binaryData=None))
    assert code == 201, obj
    assert obj["data"] == {"a": "", "b": "x"} and "binaryData" not in obj


PATCHES = [
    ("merge", "application/merge-patch+json", {"data": []},
     r'"{\"apiVersion\":\"v1\",\"data\":[],\"kind\":\"ConfigMap\",'),
    ("json", "application/json-patch+json", [{"op": "replace", "path": "/data", "value": 1}],
     r'"{\"apiVersion\":\"v1\",\"data\":1,\"kind\":\"ConfigMap\",'),
    ("strategic", "application/strategic-merge-patch+json", {"data": {"k": 2}},
     '"map[data:map[k:2]]"'),
]


@pytest.mark.parametrize("ctype,patch,shown", [p[1:] for p in PATCHES],
                         ids=[p[0] for p in PATCHES])
def test_patch_producing_mistyped_object_is_a_422_on_patch(cluster: Cluster, ns: str,
                                                          ctype: str, patch: Any,
                                                          shown: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    _, stored = call(cluster, "POST", base, configmap("p", data={"k": "v"}))
    code, status = call(cluster, "PATCH", f"{base}/p", patch, content_type=ctype)
    assert (code, status["reason"]) == (422, "Invalid")
    assert status["message"].startswith(' "" is invalid: patch: Invalid value: ')
    assert shown in status["message"]
    assert "json: cannot unmarshal number" in status["message"] or \
        "json: cannot unmarshal array" in status["message"]
    assert status["details"]["causes"][0]["field"] == "patch"
    assert call(cluster, "GET", f"{base}/p")[1] == stored


def test_server_side_apply_of_mistyped_object_is_a_400(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    code, status = call(cluster, "PATCH", f"{base}/a?fieldManager=t",
                        raw=json.dumps(configmap("a", data=[])).encode(),
                        content_type="application/apply-patch+yaml")
    assert (code, status["message"]) == (400, CM_PREFIX + MISTYPED_CONFIGMAPS[0][2])
    assert call(cluster, "GET", f"{base}/a")[0] == 404


def test_official_client_gets_the_decoder_message(cluster: Cluster, ns: str) -> None:
    api_client = config.new_client_from_config(config_file=cluster.kubeconfig)
    # The typed API checks a map of strings itself; the dynamic client sends the dict.
    configmaps = dynamic.DynamicClient(api_client).resources.get(api_version="v1",
                                                                 kind="ConfigMap")
    with pytest.raises(ApiException) as err:
        configmaps.create(body=configmap("c", data={"a": 1}), namespace=ns)
    assert err.value.status == 400
    assert json.loads(err.value.body)["message"] == CM_PREFIX + MISTYPED_CONFIGMAPS[1][2]
    api = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as err:
        api.create_namespaced_secret(ns, {"apiVersion": "v1", "kind": "Secret",
                                          "metadata": {"name": "s"}, "data": {"a": "abc"}})
    assert (err.value.status, json.loads(err.value.body)["message"]) == (
        400, 'Secret in version "v1" cannot be handled as a Secret: '
             "illegal base64 data at input byte 0")
    assert api.list_namespaced_config_map(ns).items == []
    assert api.list_namespaced_secret(ns).items == []


GROUP = "bodies.example.com"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"gizmos.{GROUP}"},
    "spec": {"group": GROUP, "scope": "Namespaced",
             "names": {"plural": "gizmos", "singular": "gizmo", "kind": "Gizmo"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                 "openAPIV3Schema": {"type": "object", "properties": {"spec": {
                     "type": "object", "properties": {
                         "replicas": {"type": "integer"},
                         "tags": {"type": "array", "items": {"type": "string"}}}}}}}}]},
}


@pytest.fixture(scope="module")
def gizmos(cluster: Cluster) -> str:
    code, _ = call(cluster, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                   CRD)
    assert code in (201, 409)
    deadline = time.monotonic() + 20
    while call(cluster, "GET", f"/apis/{GROUP}/v1/gizmos")[0] != 200:
        assert time.monotonic() < deadline, "the CRD was never served"
        time.sleep(0.05)
    return f"{GROUP}/v1"


def gizmo(name: Any, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Gizmo", "metadata": {"name": name},
            "spec": spec}


CUSTOM = [
    ("integer-gets-string", gizmo("g", replicas="string"), 422,
     'Gizmo.bodies.example.com "g" is invalid: spec.replicas: Invalid value: "string": '
     'spec.replicas in body must be of type integer: "string"'),
    ("integer-gets-fraction", gizmo("g", replicas=1.5), 422,
     'Gizmo.bodies.example.com "g" is invalid: spec.replicas: Invalid value: "number": '
     'spec.replicas in body must be of type integer: "number"'),
    ("array-gets-object", gizmo("g", tags={}), 422,
     'Gizmo.bodies.example.com "g" is invalid: spec.tags: Invalid value: "object": '
     'spec.tags in body must be of type array: "object"'),
    ("metadata-name-array", gizmo(["g"]), 400,
     'Gizmo in version "v1" cannot be handled as a Gizmo: json: cannot unmarshal array '
     "into Go struct field ObjectMeta.name of type string"),
]


@pytest.mark.parametrize("body,code,message", [c[1:] for c in CUSTOM],
                         ids=[c[0] for c in CUSTOM])
def test_mistyped_custom_resource_is_refused(cluster: Cluster, ns: str, gizmos: str,
                                             body: dict[str, Any], code: int,
                                             message: str) -> None:
    base = f"/apis/{gizmos}/namespaces/{ns}/gizmos"
    got, status = call(cluster, "POST", base, body)
    assert (got, status["message"]) == (code, message)
    assert call(cluster, "GET", base)[1]["items"] == []


@pytest.mark.parametrize("version", ["1.35", "1.32"])
def test_kubectl_create_prints_the_decoder_message(cluster: Cluster, ns: str,
                                                   version: str) -> None:
    manifest = json.dumps(configmap("k", data={"a": 1}))
    result = cluster.kubectl("create", "-n", ns, "-f", "-", input=manifest, version=version,
                             check=False)
    assert result.returncode != 0
    assert "Error from server (BadRequest)" in result.stderr
    assert CM_PREFIX + MISTYPED_CONFIGMAPS[1][2] in result.stderr
    assert call(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps/k")[0] == 404
