"""The official `kubernetes` Python client, unchanged, against every API kubelite serves.

Each built-in kind goes through the typed API the client generates for it (create, read,
list, patch, delete), then the less travelled paths: the three patch content types,
server-side apply, the dynamic client, custom resources with status and scale
subresources, watches, `create_from_yaml`, error bodies and timeouts. A test that fails
because kubelite differs from a 1.35 API server is marked xfail(strict) with the reason.
"""

from __future__ import annotations

import base64
import json
import textwrap
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client, config, dynamic, utils, watch

from tests.cluster import Cluster
from tests.csr import new_key, request_pem


@pytest.fixture(scope="module")
def api(cluster: Cluster) -> client.ApiClient:
    return config.new_client_from_config(config_file=cluster.kubeconfig)


@pytest.fixture
def ns(api: client.ApiClient) -> str:
    name = f"pm-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


def uid() -> str:
    return uuid.uuid4().hex[:6]


POD_TEMPLATE = {"metadata": {"labels": {"app": "x"}},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
JOB_TEMPLATE = {"metadata": {"labels": {"app": "x"}},
                "spec": {"restartPolicy": "Never",
                         "containers": [{"name": "c", "image": "busybox"}]}}
SELECTOR = {"matchLabels": {"app": "x"}}
# A CSR body needs a real PEM request whose signature holds.
CSR_PEM = request_pem(new_key(), "kubelite-e2e").decode()


# (id, API class, method suffix, namespaced, body without metadata.name)
KINDS: list[tuple[str, type, str, bool, dict[str, Any]]] = [
    ("core-configmap", client.CoreV1Api, "config_map", True, {"data": {"a": "1"}}),
    ("core-secret", client.CoreV1Api, "secret", True, {"stringData": {"a": "1"}}),
    ("core-service", client.CoreV1Api, "service", True,
     {"spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}}),
    ("core-serviceaccount", client.CoreV1Api, "service_account", True, {}),
    ("core-pod", client.CoreV1Api, "pod", True, {"spec": POD_TEMPLATE["spec"]}),
    ("core-pvc", client.CoreV1Api, "persistent_volume_claim", True,
     {"spec": {"accessModes": ["ReadWriteOnce"],
               "resources": {"requests": {"storage": "1Gi"}}}}),
    ("core-pv", client.CoreV1Api, "persistent_volume", False,
     {"spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
               "hostPath": {"path": "/tmp/pv"}}}),
    ("core-event", client.CoreV1Api, "event", True,
     {"involvedObject": {"kind": "Pod", "name": "p"}, "reason": "R", "message": "m"}),
    ("core-limitrange", client.CoreV1Api, "limit_range", True,
     {"spec": {"limits": [{"type": "Container", "max": {"cpu": "1"}}]}}),
    ("core-resourcequota", client.CoreV1Api, "resource_quota", True,
     {"spec": {"hard": {"pods": "10"}}}),
    ("core-rc", client.CoreV1Api, "replication_controller", True,
     {"spec": {"replicas": 0, "selector": {"app": "x"}, "template": POD_TEMPLATE}}),
    ("core-podtemplate", client.CoreV1Api, "pod_template", True, {"template": POD_TEMPLATE}),
    ("core-endpoints", client.CoreV1Api, "endpoints", True,
     {"subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]}),
    ("core-node", client.CoreV1Api, "node", False, {}),
    ("apps-deployment", client.AppsV1Api, "deployment", True,
     {"spec": {"selector": SELECTOR, "template": POD_TEMPLATE}}),
    ("apps-statefulset", client.AppsV1Api, "stateful_set", True,
     {"spec": {"selector": SELECTOR, "serviceName": "s", "template": POD_TEMPLATE}}),
    ("apps-daemonset", client.AppsV1Api, "daemon_set", True,
     {"spec": {"selector": SELECTOR, "template": POD_TEMPLATE}}),
    ("apps-replicaset", client.AppsV1Api, "replica_set", True,
     {"spec": {"replicas": 0, "selector": SELECTOR, "template": POD_TEMPLATE}}),
    ("apps-controllerrevision", client.AppsV1Api, "controller_revision", True,
     {"revision": 1, "data": {"a": 1}}),
    ("batch-job", client.BatchV1Api, "job", True,
     {"spec": {"suspend": True, "template": JOB_TEMPLATE}}),
    ("batch-cronjob", client.BatchV1Api, "cron_job", True,
     {"spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": JOB_TEMPLATE}}}}),
    ("autoscaling-v1-hpa", client.AutoscalingV1Api, "horizontal_pod_autoscaler", True,
     {"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
               "maxReplicas": 3, "targetCPUUtilizationPercentage": 50}}),
    ("autoscaling-v2-hpa", client.AutoscalingV2Api, "horizontal_pod_autoscaler", True,
     {"spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
               "maxReplicas": 3,
               "metrics": [{"type": "Resource", "resource": {
                   "name": "cpu", "target": {"type": "Utilization",
                                             "averageUtilization": 50}}}]}}),
    ("policy-pdb", client.PolicyV1Api, "pod_disruption_budget", True,
     {"spec": {"minAvailable": 1, "selector": SELECTOR}}),
    ("networking-ingress", client.NetworkingV1Api, "ingress", True,
     {"spec": {"rules": [{"host": "a.example.com", "http": {"paths": [{
         "path": "/", "pathType": "Prefix",
         "backend": {"service": {"name": "s", "port": {"number": 80}}}}]}}]}}),
    ("networking-ingressclass", client.NetworkingV1Api, "ingress_class", False,
     {"spec": {"controller": "example.com/ingress"}}),
    ("networking-networkpolicy", client.NetworkingV1Api, "network_policy", True,
     {"spec": {"podSelector": {}, "policyTypes": ["Ingress"]}}),
    ("discovery-endpointslice", client.DiscoveryV1Api, "endpoint_slice", True,
     {"addressType": "IPv4", "endpoints": [{"addresses": ["10.0.0.1"]}],
      "ports": [{"port": 80, "protocol": "TCP"}]}),
    ("events-event", client.EventsV1Api, "event", True,
     {"eventTime": "2024-01-01T00:00:00.000000Z", "reportingController": "e2e/ctl",
      "reportingInstance": "i", "action": "Act", "reason": "R", "type": "Normal",
      "regarding": {"kind": "Pod", "name": "p"}}),
    ("scheduling-priorityclass", client.SchedulingV1Api, "priority_class", False,
     {"value": 1000}),
    ("coordination-lease", client.CoordinationV1Api, "lease", True,
     {"spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}}),
    ("storage-storageclass", client.StorageV1Api, "storage_class", False,
     {"provisioner": "example.com/p"}),
    ("storage-csidriver", client.StorageV1Api, "csi_driver", False, {"spec": {}}),
    ("storage-csinode", client.StorageV1Api, "csi_node", False, {"spec": {"drivers": []}}),
    ("storage-volumeattachment", client.StorageV1Api, "volume_attachment", False,
     {"spec": {"attacher": "example.com/a", "nodeName": "n",
               "source": {"persistentVolumeName": "pv"}}}),
    ("certificates-csr", client.CertificatesV1Api, "certificate_signing_request", False,
     {"spec": {"request": base64.b64encode(CSR_PEM.encode()).decode(),
               "signerName": "example.com/signer", "usages": ["client auth"]}}),
    ("rbac-role", client.RbacAuthorizationV1Api, "role", True,
     {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    ("rbac-rolebinding", client.RbacAuthorizationV1Api, "role_binding", True,
     {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
      "subjects": [{"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"}]}),
    ("rbac-clusterrole", client.RbacAuthorizationV1Api, "cluster_role", False,
     {"rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]}),
    ("rbac-clusterrolebinding", client.RbacAuthorizationV1Api, "cluster_role_binding", False,
     {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                  "name": "r"},
      "subjects": [{"kind": "ServiceAccount", "name": "s", "namespace": "default"}]}),
    ("apiextensions-crd", client.ApiextensionsV1Api, "custom_resource_definition", False,
     None),  # body built per test: the name must be <plural>.<group>
    ("admission-validatingwebhook", client.AdmissionregistrationV1Api,
     "validating_webhook_configuration", False,
     {"webhooks": [{"name": "v.example.com", "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                    "clientConfig": {"url": "https://example.com/v"}}]}),
    ("admission-mutatingwebhook", client.AdmissionregistrationV1Api,
     "mutating_webhook_configuration", False,
     {"webhooks": [{"name": "m.example.com", "sideEffects": "None",
                    "admissionReviewVersions": ["v1"],
                    "clientConfig": {"url": "https://example.com/m"}}]}),
    ("admission-vap", client.AdmissionregistrationV1Api, "validating_admission_policy", False,
     {"spec": {"matchConstraints": {"resourceRules": [{
         "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"],
         "resources": ["configmaps"]}]},
         "validations": [{"expression": "true"}]}}),
    ("admission-vapbinding", client.AdmissionregistrationV1Api,
     "validating_admission_policy_binding", False,
     {"spec": {"policyName": "p", "validationActions": ["Deny"]}}),
]


def crd_body(group: str, plural: str = "gizmos", kind: str = "Gizmo",
             scope: str = "Namespaced") -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "scope": scope,
                 "names": {"plural": plural, "singular": kind.lower(), "kind": kind,
                           "listKind": kind + "List"},
                 "versions": [{
                     "name": "v1", "served": True, "storage": True,
                     "schema": {"openAPIV3Schema": {
                         "type": "object",
                         "properties": {
                             "spec": {"type": "object", "properties": {
                                 "replicas": {"type": "integer"},
                                 "color": {"type": "string"}}},
                             "status": {"type": "object", "properties": {
                                 "replicas": {"type": "integer"},
                                 "selector": {"type": "string"},
                                 "phase": {"type": "string"}}}}}},
                     "subresources": {
                         "status": {},
                         "scale": {"specReplicasPath": ".spec.replicas",
                                   "statusReplicasPath": ".status.replicas",
                                   "labelSelectorPath": ".status.selector"}}}]}}


def verbs(api: client.ApiClient, cls: type, suffix: str, namespaced: bool, ns: str
          ) -> dict[str, Callable[..., Any]]:
    """The generated methods of one kind, with the namespace bound when it has one."""
    o = cls(api)
    if namespaced:
        def bind(verb: str) -> Callable[..., Any]:
            fn = getattr(o, f"{verb}_namespaced_{suffix}")
            if verb in ("create", "list"):
                return lambda *a, **k: fn(ns, *a, **k)
            return lambda name, *a, **k: fn(name, ns, *a, **k)
        return {v: bind(v) for v in ("create", "read", "list", "patch", "delete", "replace")}
    return {v: getattr(o, f"{v}_{suffix}") for v in
            ("create", "read", "list", "patch", "delete", "replace")}


@pytest.mark.parametrize("case,cls,suffix,namespaced,spec", [pytest.param(*k, id=k[0]) for k in KINDS])
def test_typed_crud_every_kind(api: client.ApiClient, ns: str, case: str, cls: type,
                               suffix: str, namespaced: bool, spec: dict[str, Any] | None
                               ) -> None:
    if spec is None:
        group = f"crud{uid()}.example.com"
        body = crd_body(group)
    else:
        body = {"metadata": {"name": f"x-{uid()}", "labels": {"e2e": "crud"}}, **spec}
    name = body["metadata"]["name"]
    v = verbs(api, cls, suffix, namespaced, ns)
    create_info = getattr(cls(api), (f"create_namespaced_{suffix}" if namespaced
                                     else f"create_{suffix}") + "_with_http_info")
    created, code, _ = create_info(*((ns,) if namespaced else ()), body)
    assert code == 201
    assert created.metadata.name == name and created.metadata.uid
    assert created.api_version and created.kind  # typed objects carry their GVK
    got = v["read"](name)
    assert got.metadata.uid == created.metadata.uid
    if spec is None:
        # The API server's CRD loop writes the new CRD's status; a replace racing it
        # would get an honest 409, so wait as a user would for it to be Established.
        for _ in range(100):
            conditions = v["read"](name).status.conditions or []
            if any(c.type == "Established" and c.status == "True" for c in conditions):
                break
            time.sleep(0.05)
    listed = v["list"](field_selector=f"metadata.name={name}")
    assert [i.metadata.name for i in listed.items] == [name]
    assert listed.metadata.resource_version
    patched = v["patch"](name, {"metadata": {"annotations": {"e2e/patched": "yes"}}})
    assert patched.metadata.annotations["e2e/patched"] == "yes"
    patched.metadata.labels = {**(patched.metadata.labels or {}), "replaced": "yes"}
    replaced = v["replace"](name, patched)
    assert replaced.metadata.labels["replaced"] == "yes"
    v["delete"](name)
    with pytest.raises(client.ApiException) as err:
        # Objects with finalizers may linger; a CRD's own cleanup finalizer is one.
        for _ in range(100):
            v["read"](name)
            time.sleep(0.05)
    assert err.value.status == 404


def test_with_http_info_status_codes(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    body = {"metadata": {"name": "c"}, "data": {"a": "1"}}
    _, code, headers = core.create_namespaced_config_map_with_http_info(ns, body)
    assert code == 201
    assert headers["Content-Type"].startswith("application/json")
    _, code, _ = core.read_namespaced_config_map_with_http_info("c", ns)
    assert code == 200
    _, code, _ = core.patch_namespaced_config_map_with_http_info("c", ns, {"data": {"b": "2"}})
    assert code == 200
    _, code, _ = core.list_namespaced_config_map_with_http_info(ns)
    assert code == 200
    status, code, _ = core.delete_namespaced_config_map_with_http_info("c", ns)
    assert code == 200
    assert status["kind"] == "Status" and status["status"] == "Success"
    # A delete that must wait for a finalizer answers 202 with the object.
    core.create_namespaced_config_map(ns, {"metadata": {"name": "f",
                                                        "finalizers": ["e2e/hold"]}})
    # Upstream answers 200 with the object still there (202 only for orphanDependents=false).
    obj, code, _ = core.delete_namespaced_config_map_with_http_info("f", ns)
    assert code == 200
    assert obj["kind"] == "ConfigMap" and obj["metadata"]["deletionTimestamp"]
    core.patch_namespaced_config_map("f", ns, {"metadata": {"finalizers": None}})


RETURNS_OBJECT = [
    pytest.param("pods", {"spec": POD_TEMPLATE["spec"]}, "Pod", id="pod"),
    pytest.param("services", {"spec": {"ports": [{"port": 80}]}}, "Service", id="service"),
    pytest.param("serviceaccounts", {}, "ServiceAccount", id="serviceaccount"),
    pytest.param("podtemplates", {"template": POD_TEMPLATE}, "PodTemplate", id="podtemplate"),
    pytest.param("configmaps", {}, "Status", id="configmap"),
]


@pytest.mark.parametrize("plural,spec,kind", RETURNS_OBJECT)
def test_delete_answer_kind(api: client.ApiClient, ns: str, plural: str,
                            spec: dict[str, Any], kind: str) -> None:
    """What DELETE returns follows upstream's ReturnDeletedObject per store. The typed
    client deserialises a ServiceAccount/PodTemplate delete answer as that kind, so a
    Status there silently becomes an empty object."""
    path = f"/api/v1/namespaces/{ns}/{plural}"
    request = api.param_serialize("POST", path, body={"metadata": {"name": "x"}, **spec},
                                  header_params={"Content-Type": "application/json"})
    resp = api.call_api(*request)
    resp.read()
    assert resp.status == 201
    request = api.param_serialize("DELETE", path + "/x")
    resp = api.call_api(*request)
    resp.read()
    assert resp.status == 200
    assert json.loads(resp.data)["kind"] == kind


PATCH_TYPES = [
    ("merge", "application/merge-patch+json",
     {"data": {"b": "2"}}, {"a": "1", "b": "2"}),
    ("strategic", "application/strategic-merge-patch+json",
     {"data": {"b": "2", "a": None}}, {"b": "2"}),
    ("json", "application/json-patch+json",
     [{"op": "add", "path": "/data/b", "value": "2"},
      {"op": "remove", "path": "/data/a"}], {"b": "2"}),
]


@pytest.mark.parametrize("case,ctype,patch,want", PATCH_TYPES, ids=[p[0] for p in PATCH_TYPES])
def test_patch_content_types(api: client.ApiClient, ns: str, case: str, ctype: str,
                             patch: Any, want: dict[str, str]) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}})
    got = core.patch_namespaced_config_map("c", ns, patch, _content_type=ctype)
    assert got.data == want


def test_patch_default_content_type_by_body(api: client.ApiClient, ns: str) -> None:
    """A list body goes out as JSON patch, a dict as strategic merge patch."""
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "d"},
                                           "spec": {"selector": SELECTOR,
                                                    "template": POD_TEMPLATE}})
    got = apps.patch_namespaced_deployment("d", ns, [
        {"op": "replace", "path": "/spec/replicas", "value": 4}])
    assert got.spec.replicas == 4
    got = apps.patch_namespaced_deployment("d", ns, {"spec": {"template": {"spec": {
        "containers": [{"name": "side", "image": "busybox"}]}}}})
    # Strategic merge: containers merge by name; an item new to the list comes first
    # (upstream mergeSortedSlice).
    assert [c.name for c in got.spec.template.spec.containers] == ["side", "c"]


def test_patch_scale_subresource(api: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "d"},
                                           "spec": {"selector": SELECTOR,
                                                    "template": POD_TEMPLATE}})
    scale = apps.read_namespaced_deployment_scale("d", ns)
    assert scale.spec.replicas == 1
    got = apps.patch_namespaced_deployment_scale("d", ns, {"spec": {"replicas": 3}})
    assert got.spec.replicas == 3
    scale = apps.replace_namespaced_deployment_scale(
        "d", ns, {"metadata": {"name": "d", "namespace": ns}, "spec": {"replicas": 2}})
    assert scale.spec.replicas == 2
    assert apps.read_namespaced_deployment("d", ns).spec.replicas == 2


def apply(api: client.ApiClient, path: str, body: dict[str, Any], manager: str,
          force: bool = False) -> dict[str, Any]:
    """Server-side apply through the client's generic request path."""
    query = [("fieldManager", manager)] + ([("force", "true")] if force else [])
    request = api.param_serialize(
        "PATCH", path, query_params=query, body=body,
        header_params={"Content-Type": "application/apply-patch+yaml",
                       "Accept": "application/json"}, auth_settings=["BearerToken"])
    resp = api.call_api(*request)
    resp.read()
    if not 200 <= resp.status <= 299:
        raise client.ApiException.from_response(http_resp=resp, body=None, data=None)
    return json.loads(resp.data)


def test_server_side_apply_through_call_api(api: client.ApiClient, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/c"
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
            "data": {"a": "1"}}
    got = apply(api, path, body, "one")
    assert got["data"] == {"a": "1"}
    managers = [m["manager"] for m in got["metadata"]["managedFields"]]
    assert managers == ["one"]
    # A second manager changing the same field conflicts, and force takes it over.
    with pytest.raises(client.ApiException) as err:
        apply(api, path, {**body, "data": {"a": "2"}}, "two")
    assert err.value.status == 409 and err.value.reason == "Conflict"
    got = apply(api, path, {**body, "data": {"a": "2"}}, "two", force=True)
    assert got["data"] == {"a": "2"}
    # Dropping a field from one's own applied config removes it.
    apply(api, path, {**body, "data": {"a": "2", "b": "3"}}, "two")
    got = apply(api, path, {**body, "data": {"a": "2"}}, "two")
    assert got["data"] == {"a": "2"}


@pytest.fixture(scope="module")
def dyn(api: client.ApiClient) -> dynamic.DynamicClient:
    return dynamic.DynamicClient(api)


def test_dynamic_client_discovery(dyn: dynamic.DynamicClient) -> None:
    for api_version, kind, plural in [("v1", "ConfigMap", "configmaps"),
                                      ("apps/v1", "Deployment", "deployments"),
                                      ("autoscaling/v1", "HorizontalPodAutoscaler",
                                       "horizontalpodautoscalers"),
                                      ("autoscaling/v2", "HorizontalPodAutoscaler",
                                       "horizontalpodautoscalers"),
                                      ("events.k8s.io/v1", "Event", "events"),
                                      ("apiextensions.k8s.io/v1",
                                       "CustomResourceDefinition",
                                       "customresourcedefinitions")]:
        res = dyn.resources.get(api_version=api_version, kind=kind)
        assert res.name == plural
    scale = dyn.resources.get(api_version="apps/v1", kind="Deployment").subresources
    assert {"scale", "status"} <= set(scale)
    assert dyn.resources.get(api_version="v1", short_names=["cm"]).kind == "ConfigMap"
    assert dyn.version["kubernetes"]["minor"].rstrip("+") == "35"


def test_dynamic_client_crud_and_apply(dyn: dynamic.DynamicClient, ns: str) -> None:
    cms = dyn.resources.get(api_version="v1", kind="ConfigMap")
    created = cms.create(namespace=ns, body={"apiVersion": "v1", "kind": "ConfigMap",
                                             "metadata": {"name": "c"}, "data": {"a": "1"}})
    assert created.metadata.uid
    got = cms.get(name="c", namespace=ns)
    assert got.data.a == "1"
    listed = cms.get(namespace=ns)
    assert [i.metadata.name for i in listed.items] == ["c"]
    patched = cms.patch(name="c", namespace=ns, body={"data": {"b": "2"}},
                        content_type="application/merge-patch+json")
    assert patched.data.b == "2"
    applied = cms.server_side_apply(
        namespace=ns, body={"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "s"}, "data": {"x": "y"}},
        field_manager="dyn")
    assert applied.data.x == "y"
    applied = cms.server_side_apply(
        namespace=ns, body={"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "s"}, "data": {"x": "z"}},
        field_manager="dyn", force_conflicts=True)
    assert applied.data.x == "z"
    deleted = cms.delete(name="c", namespace=ns)
    assert deleted.status == "Success"
    deps = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    deps.create(namespace=ns, body={"apiVersion": "apps/v1", "kind": "Deployment",
                                    "metadata": {"name": "d"},
                                    "spec": {"selector": SELECTOR,
                                             "template": POD_TEMPLATE}})
    scale = deps.subresources["scale"].get(name="d", namespace=ns)
    assert scale.spec.replicas == 1
    watched = []
    for event in cms.watch(namespace=ns, timeout=2):
        watched.append(event["object"].metadata.name)
        if len(watched) == 1:
            break
    assert watched == ["s"]


@pytest.fixture(scope="module")
def crd(api: client.ApiClient) -> dict[str, str]:
    group = f"cr{uid()}.example.com"
    ext = client.ApiextensionsV1Api(api)
    ext.create_custom_resource_definition(crd_body(group))
    name = f"gizmos.{group}"
    for _ in range(200):
        status = ext.read_custom_resource_definition_status(name).status
        conds = (status.conditions if status else None) or []
        if any(c.type == "Established" and c.status == "True" for c in conds):
            break
        time.sleep(0.05)
    else:
        raise AssertionError("CRD never became Established")
    return {"group": group, "name": name}


def test_crd_create_answer_has_status(api: client.ApiClient) -> None:
    """Scripts often poll `read_custom_resource_definition(n).status.conditions` right
    after create; upstream gives a status (storedVersions, empty acceptedNames) at once."""
    ext = client.ApiextensionsV1Api(api)
    created = ext.create_custom_resource_definition(crd_body(f"st{uid()}.example.com"))
    assert created.status is not None
    assert created.status.stored_versions == ["v1"]


def test_custom_objects_crud(api: client.ApiClient, ns: str, crd: dict[str, str]) -> None:
    co = client.CustomObjectsApi(api)
    g = crd["group"]
    body = {"apiVersion": f"{g}/v1", "kind": "Gizmo", "metadata": {"name": "w"},
            "spec": {"replicas": 1, "color": "red"}}
    created = co.create_namespaced_custom_object(g, "v1", ns, "gizmos", body)
    assert created["metadata"]["uid"]
    got = co.get_namespaced_custom_object(g, "v1", ns, "gizmos", "w")
    assert got["spec"]["color"] == "red"
    listed = co.list_namespaced_custom_object(g, "v1", ns, "gizmos")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["w"]
    everywhere = co.list_cluster_custom_object(g, "v1", "gizmos")
    assert "w" in [i["metadata"]["name"] for i in everywhere["items"]]
    # CustomObjectsApi sends merge patch unless told otherwise; JSON patch must be asked.
    patched = co.patch_namespaced_custom_object(g, "v1", ns, "gizmos", "w",
                                                {"spec": {"color": "blue"}})
    assert patched["spec"] == {"replicas": 1, "color": "blue"}
    patched = co.patch_namespaced_custom_object(
        g, "v1", ns, "gizmos", "w", [{"op": "replace", "path": "/spec/color",
                                       "value": "green"}],
        _content_type="application/json-patch+json")
    assert patched["spec"]["color"] == "green"
    patched["spec"]["color"] = "black"
    replaced = co.replace_namespaced_custom_object(g, "v1", ns, "gizmos", "w", patched)
    assert replaced["spec"]["color"] == "black"
    # The main resource ignores status; the status subresource ignores spec.
    replaced["status"] = {"phase": "ignored"}
    again = co.replace_namespaced_custom_object(g, "v1", ns, "gizmos", "w", replaced)
    assert "status" not in again
    st = co.patch_namespaced_custom_object_status(g, "v1", ns, "gizmos", "w",
                                                  {"status": {"phase": "Ready",
                                                              "replicas": 1,
                                                              "selector": "app=x"},
                                                   "spec": {"color": "ignored"}})
    assert st["status"]["phase"] == "Ready" and st["spec"]["color"] == "black"
    assert co.get_namespaced_custom_object_status(g, "v1", ns, "gizmos",
                                                  "w")["status"]["phase"] == "Ready"
    st["status"]["phase"] = "Done"
    st = co.replace_namespaced_custom_object_status(g, "v1", ns, "gizmos", "w", st)
    assert st["status"]["phase"] == "Done"
    co.delete_namespaced_custom_object(g, "v1", ns, "gizmos", "w")
    with pytest.raises(client.ApiException) as err:
        co.get_namespaced_custom_object(g, "v1", ns, "gizmos", "w")
    assert err.value.status == 404


def test_custom_objects_scale(api: client.ApiClient, ns: str, crd: dict[str, str]) -> None:
    co = client.CustomObjectsApi(api)
    g = crd["group"]
    co.create_namespaced_custom_object(g, "v1", ns, "gizmos", {
        "apiVersion": f"{g}/v1", "kind": "Gizmo", "metadata": {"name": "w"},
        "spec": {"replicas": 2}})
    co.patch_namespaced_custom_object_status(g, "v1", ns, "gizmos", "w", {
        "status": {"replicas": 2, "selector": "app=w"}})
    scale = co.get_namespaced_custom_object_scale(g, "v1", ns, "gizmos", "w")
    assert scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"]["replicas"] == 2
    assert scale["status"] == {"replicas": 2, "selector": "app=w"}
    scaled = co.patch_namespaced_custom_object_scale(g, "v1", ns, "gizmos", "w",
                                                     {"spec": {"replicas": 5}})
    assert scaled["spec"]["replicas"] == 5
    scaled["spec"]["replicas"] = 4
    scaled = co.replace_namespaced_custom_object_scale(g, "v1", ns, "gizmos", "w", scaled)
    assert scaled["spec"]["replicas"] == 4
    assert co.get_namespaced_custom_object(g, "v1", ns, "gizmos",
                                           "w")["spec"]["replicas"] == 4


def test_custom_objects_delete_collection(api: client.ApiClient, ns: str,
                                          crd: dict[str, str]) -> None:
    co = client.CustomObjectsApi(api)
    g = crd["group"]
    for name, tier in [("a", "x"), ("b", "x"), ("c", "y")]:
        co.create_namespaced_custom_object(g, "v1", ns, "gizmos", {
            "apiVersion": f"{g}/v1", "kind": "Gizmo",
            "metadata": {"name": name, "labels": {"tier": tier}}})
    co.delete_collection_namespaced_custom_object(g, "v1", ns, "gizmos",
                                                  label_selector="tier=x")
    left = co.list_namespaced_custom_object(g, "v1", ns, "gizmos")
    assert [i["metadata"]["name"] for i in left["items"]] == ["c"]


def test_status_subresource_typed(api: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "d"},
                                           "spec": {"selector": SELECTOR,
                                                    "template": POD_TEMPLATE}})
    st = apps.read_namespaced_deployment_status("d", ns)
    assert st.metadata.name == "d"
    st.status = client.V1DeploymentStatus(replicas=1, observed_generation=1,
                                          ready_replicas=1)
    st.spec.replicas = 7  # ignored by the status subresource
    got = apps.replace_namespaced_deployment_status("d", ns, st)
    assert got.status.ready_replicas == 1 and got.spec.replicas == 1
    got = apps.patch_namespaced_deployment_status("d", ns,
                                                  {"status": {"availableReplicas": 1}})
    assert got.status.available_replicas == 1
    core = client.CoreV1Api(api)
    core.create_namespaced_service(ns, {"metadata": {"name": "s"},
                                        "spec": {"ports": [{"port": 80}]}})
    got = core.patch_namespaced_service_status("s", ns, {"status": {"loadBalancer": {
        "ingress": [{"ip": "1.2.3.4"}]}}})
    assert got.status.load_balancer.ingress[0].ip == "1.2.3.4"
    got = core.read_namespace_status(ns)
    assert got.status.phase == "Active"


def test_delete_collection_with_label_selector(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    for name, tier in [("a", "x"), ("b", "x"), ("c", "y")]:
        core.create_namespaced_config_map(ns, {"metadata": {"name": name,
                                                            "labels": {"tier": tier}}})
    status = core.delete_collection_namespaced_config_map(ns, label_selector="tier=x")
    assert status.kind in ("Status", "ConfigMapList")
    left = core.list_namespaced_config_map(ns)
    assert [i.metadata.name for i in left.items] == ["c"]
    apps = client.AppsV1Api(api)
    for name in ("d1", "d2"):
        apps.create_namespaced_deployment(ns, {"metadata": {"name": name,
                                                            "labels": {"tier": "x"}},
                                               "spec": {"selector": SELECTOR,
                                                        "template": POD_TEMPLATE}})
    apps.delete_collection_namespaced_deployment(ns, label_selector="tier in (x)")
    assert apps.list_namespaced_deployment(ns).items == []


def test_list_for_all_namespaces(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)
    a, b = f"pa-{uid()}", f"pb-{uid()}"
    mark = uid()
    for n in (a, b):
        core.create_namespace({"metadata": {"name": n}})
        core.create_namespaced_config_map(n, {"metadata": {"name": "c",
                                                           "labels": {"mark": mark}}})
    got = core.list_config_map_for_all_namespaces(label_selector=f"mark={mark}")
    assert sorted(i.metadata.namespace for i in got.items) == sorted([a, b])
    assert got.kind == "ConfigMapList" or got.kind is None
    apps = client.AppsV1Api(api)
    assert isinstance(apps.list_deployment_for_all_namespaces().items, list)
    got = client.NetworkingV1Api(api).list_ingress_for_all_namespaces(limit=1)
    assert isinstance(got.items, list)
    # Namespaced: a core/v1 Event without eventTime elsewhere in the cluster shows
    # eventTime null through events.k8s.io/v1, which this client's model refuses.
    got = client.EventsV1Api(api).list_namespaced_event(a, limit=1)
    assert isinstance(got.items, list)


def test_watch_resume_with_bookmarks(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    listed = core.list_namespaced_config_map(ns)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "a"}})
    core.patch_namespaced_config_map("a", ns, {"data": {"k": "v"}})
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, ns,
                          resource_version=listed.metadata.resource_version,
                          allow_watch_bookmarks=True, timeout_seconds=5):
        if event["type"] == "BOOKMARK":
            continue
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 2:
            w.stop()
    assert seen == [("ADDED", "a"), ("MODIFIED", "a")]
    # The Watch tracks the last resourceVersion it saw, for the next resume.
    assert int(w.resource_version) >= int(listed.metadata.resource_version)


def test_watch_single_object_by_field_selector(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "other"}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "me"}})
    listed = core.list_namespaced_config_map(ns, field_selector="metadata.name=me")
    assert [i.metadata.name for i in listed.items] == ["me"]

    def touch() -> None:
        core.patch_namespaced_config_map("other", ns, {"data": {"x": "1"}})
        core.patch_namespaced_config_map("me", ns, {"data": {"x": "1"}})

    seen = []
    w = watch.Watch()
    timer = threading.Timer(0.3, touch)
    timer.start()
    try:
        for event in w.stream(core.list_namespaced_config_map, ns,
                              field_selector="metadata.name=me",
                              resource_version=listed.metadata.resource_version,
                              timeout_seconds=5):
            seen.append((event["type"], event["object"].metadata.name))
            w.stop()
    finally:
        timer.join()
    assert seen == [("MODIFIED", "me")]


def test_watch_all_namespaces_sees_typed_objects(api: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(api)
    rv = apps.list_deployment_for_all_namespaces(limit=1).metadata.resource_version
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "d"},
                                           "spec": {"selector": SELECTOR,
                                                    "template": POD_TEMPLATE}})
    w = watch.Watch()
    for event in w.stream(apps.list_deployment_for_all_namespaces, resource_version=rv,
                          timeout_seconds=5):
        if event["object"].metadata.namespace == ns:
            assert isinstance(event["object"], client.V1Deployment)
            assert event["object"].spec.template.spec.containers[0].name == "c"
            w.stop()


MULTI_DOC = textwrap.dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: from-yaml}
    data: {a: "1"}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: from-yaml}
    spec:
      selector: {matchLabels: {app: y}}
      template:
        metadata: {labels: {app: y}}
        spec: {containers: [{name: c, image: busybox}]}
    ---
    apiVersion: v1
    kind: List
    items:
    - apiVersion: v1
      kind: Secret
      metadata: {name: from-list}
      stringData: {a: b}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: Role
    metadata: {name: from-yaml}
    rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
    ---
    apiVersion: networking.k8s.io/v1
    kind: NetworkPolicy
    metadata: {name: from-yaml}
    spec: {podSelector: {}}
    """)


def test_create_from_yaml_multi_document(api: client.ApiClient, ns: str,
                                         tmp_path: Path) -> None:
    path = tmp_path / "multi.yaml"
    path.write_text(MULTI_DOC)
    created = utils.create_from_yaml(api, str(path), namespace=ns)
    kinds = sorted(o.kind for group in created for o in group)
    assert kinds == ["ConfigMap", "Deployment", "NetworkPolicy", "Role", "Secret"]
    # A second run fails with every conflict gathered in one FailToCreateError.
    with pytest.raises(utils.FailToCreateError) as err:
        utils.create_from_yaml(api, str(path), namespace=ns)
    assert sorted(e.status for e in err.value.api_exceptions) == [409] * 5


ERRORS = [
    ("not-found", lambda core, ns: core.read_namespaced_config_map("nope", ns),
     404, "Not Found", "NotFound"),
    ("already-exists", lambda core, ns: [core.create_namespaced_config_map(
        ns, {"metadata": {"name": "dup"}}) for _ in range(2)], 409, "Conflict",
     "AlreadyExists"),
    ("invalid", lambda core, ns: core.create_namespaced_config_map(
        ns, {"metadata": {"name": "Bad_Name"}}), 422, "Unprocessable Entity", "Invalid"),
    ("stale-update", lambda core, ns: core.replace_namespaced_config_map(
        "stale", ns, {"metadata": {"name": "stale", "resourceVersion": "1"}})
     if core.create_namespaced_config_map(ns, {"metadata": {"name": "stale"}}) else None,
     409, "Conflict", "Conflict"),
    ("bad-json-patch", lambda core, ns: core.patch_namespaced_config_map(
        "p", ns, [{"op": "remove", "path": "/data/missing"}])
     if core.create_namespaced_config_map(ns, {"metadata": {"name": "p"}}) else None,
     422, "Unprocessable Entity", "Invalid"),
    ("namespace-missing", lambda core, ns: core.create_namespaced_config_map(
        ns + "-gone", {"metadata": {"name": "c"}}), 404, "Not Found", "NotFound"),
    ("bad-field-selector", lambda core, ns: core.list_namespaced_config_map(
        ns, field_selector="spec.nope=1"), 400, "Bad Request", "BadRequest"),
    ("bad-label-selector", lambda core, ns: core.list_namespaced_config_map(
        ns, label_selector="a in b"), 400, "Bad Request", "BadRequest"),
]


@pytest.mark.parametrize("case,call,status,reason,status_reason", ERRORS,
                         ids=[e[0] for e in ERRORS])
def test_error_bodies_parse_into_api_exception(api: client.ApiClient, ns: str, case: str,
                                               call: Callable[..., Any], status: int,
                                               reason: str, status_reason: str) -> None:
    core = client.CoreV1Api(api)
    with pytest.raises(client.ApiException) as err:
        call(core, ns)
    assert err.value.status == status
    assert err.value.reason == reason
    body = json.loads(err.value.body)
    assert (body["kind"], body["apiVersion"], body["status"]) == ("Status", "v1", "Failure")
    assert (body["code"], body["reason"]) == (status, status_reason)
    assert err.value.headers["Content-Type"].startswith("application/json")


def test_error_details_name_the_object(api: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(api)
    with pytest.raises(client.ApiException) as err:
        apps.read_namespaced_deployment("missing", ns)
    body = json.loads(err.value.body)
    assert body["details"] == {"name": "missing", "group": "apps", "kind": "deployments"}
    assert body["message"] == 'deployments.apps "missing" not found'


def test_request_timeout(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    # A short total timeout on a quick call succeeds.
    assert core.list_namespaced_config_map(ns, _request_timeout=5).items == []
    assert core.list_namespaced_config_map(ns, _request_timeout=(2, 5)).items == []
    # A watch with no events hits the client's read timeout.
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        for _ in watch.Watch().stream(core.list_namespaced_config_map, ns,
                                      _request_timeout=0.5, timeout_seconds=30):
            pass
    # The server ends a watch at timeoutSeconds, and the stream ends cleanly.
    events = list(watch.Watch().stream(core.list_namespaced_config_map, ns,
                                       timeout_seconds=1))
    assert events == []


def test_api_versions_and_groups(api: client.ApiClient) -> None:
    groups = client.ApisApi(api).get_api_versions()
    names = {g.name: g.preferred_version.version for g in groups.groups}
    assert names["autoscaling"] == "v2"
    assert names["apps"] == "v1"
    core = client.CoreApi(api).get_api_versions()
    assert core.versions == ["v1"]
    res = client.CoreV1Api(api).get_api_resources()
    assert "configmaps" in [r.name for r in res.resources]
    res = client.AppsV1Api(api).get_api_resources()
    assert "deployments/scale" in [r.name for r in res.resources]
    assert client.VersionApi(api).get_code().minor.rstrip("+") == "35"


def test_json_serialisable_typed_round_trip(api: client.ApiClient, ns: str) -> None:
    """A typed object read back and sent again (replace) keeps every field."""
    batch = client.BatchV1Api(api)
    created = batch.create_namespaced_cron_job(ns, {
        "metadata": {"name": "cj"},
        "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": JOB_TEMPLATE}}}})
    created.spec.suspend = True
    replaced = batch.replace_namespaced_cron_job("cj", ns, created)
    assert replaced.spec.suspend is True
    assert replaced.spec.job_template.spec.template.spec.restart_policy == "Never"
    assert api.sanitize_for_serialization(replaced)["spec"]["concurrencyPolicy"] == "Allow"


def test_dry_run_and_field_manager(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    got = core.create_namespaced_config_map(ns, {"metadata": {"name": "dry"}}, dry_run="All")
    assert got.metadata.name == "dry"
    assert core.list_namespaced_config_map(ns).items == []
    got = core.create_namespaced_config_map(ns, {"metadata": {"name": "c"}, "data": {"a": "1"}},
                                            field_manager="e2e-tool")
    assert [(m.manager, m.operation) for m in got.metadata.managed_fields] == \
        [("e2e-tool", "Update")]


def test_typed_server_side_apply(api: client.ApiClient, ns: str) -> None:
    """The typed patch method with the apply content type sends the dict as JSON, which
    is YAML; upstream takes it as an apply configuration."""
    apps = client.AppsV1Api(api)
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
            "spec": {"replicas": 2, "selector": SELECTOR, "template": POD_TEMPLATE}}
    got = apps.patch_namespaced_deployment("d", ns, body, field_manager="e2e",
                                           _content_type="application/apply-patch+yaml")
    assert got.spec.replicas == 2
    assert [m.operation for m in got.metadata.managed_fields] == ["Apply"]
    body["spec"]["replicas"] = 3
    got = apps.patch_namespaced_deployment("d", ns, body, field_manager="e2e", force=True,
                                           _content_type="application/apply-patch+yaml")
    assert got.spec.replicas == 3


def test_lease_micro_time_round_trip(api: client.ApiClient, ns: str) -> None:
    """Leases carry MicroTime; the client sends datetimes with a +00:00 offset."""
    import datetime as dt
    coord = client.CoordinationV1Api(api)
    when = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc)
    lease = client.V1Lease(metadata=client.V1ObjectMeta(name="l"),
                           spec=client.V1LeaseSpec(holder_identity="a", acquire_time=when,
                                                   renew_time=when,
                                                   lease_duration_seconds=15))
    got = coord.create_namespaced_lease(ns, lease)
    assert got.spec.renew_time == when
    got.spec.renew_time = when + dt.timedelta(seconds=1)
    got = coord.replace_namespaced_lease("l", ns, got)
    assert got.spec.renew_time == when + dt.timedelta(seconds=1)


TIMES = [
    pytest.param("coordination.k8s.io/v1", "leases", "Lease", {"spec": {}}, ("spec", "renewTime"),
                 "2024-05-06T07:08:09.123456+00:00", "2024-05-06T07:08:09.123456Z",
                 id="microtime-offset"),
    pytest.param("v1", "events", "Event", {"involvedObject": {"kind": "Pod", "name": "p"}},
                 ("lastTimestamp",), "2024-05-06T07:08:09.5+02:00", "2024-05-06T05:08:09Z",
                 id="time-offset-fraction"),
    pytest.param("v1", "events", "Event", {"involvedObject": {"kind": "Pod", "name": "p"}},
                 ("firstTimestamp",), "2024-05-06T07:08:09Z", "2024-05-06T07:08:09Z",
                 id="time-canonical"),
]


@pytest.mark.parametrize("api_version,plural,kind,body,path,sent,stored", TIMES)
def test_times_are_stored_in_canonical_utc_form(api: client.ApiClient, ns: str,
                                                api_version: str, plural: str, kind: str,
                                                body: dict[str, Any], path: tuple[str, ...],
                                                sent: str, stored: str,
                                                request: pytest.FixtureRequest) -> None:
    """Upstream decodes metav1.Time/MicroTime and encodes them again in UTC with a Z
    (Time to the second, MicroTime to the microsecond). The Python client sends
    datetimes as isoformat(), so with a +00:00 offset and microseconds."""
    obj = {"apiVersion": api_version, "kind": kind, "metadata": {"name": "t"}, **body}
    target = obj
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = sent
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    request_ = api.param_serialize("POST", f"{prefix}/namespaces/{ns}/{plural}", body=obj,
                                   header_params={"Content-Type": "application/json"})
    resp = api.call_api(*request_)
    resp.read()
    assert resp.status == 201, resp.data
    got = json.loads(resp.data)
    for key in path:
        got = got[key]
    assert got == stored


def test_watch_custom_objects(api: client.ApiClient, ns: str, crd: dict[str, str]) -> None:
    co = client.CustomObjectsApi(api)
    g = crd["group"]
    rv = co.list_namespaced_custom_object(g, "v1", ns, "gizmos")["metadata"]["resourceVersion"]
    co.create_namespaced_custom_object(g, "v1", ns, "gizmos", {
        "apiVersion": f"{g}/v1", "kind": "Gizmo", "metadata": {"name": "w"}})
    w = watch.Watch()
    seen = []
    for event in w.stream(co.list_namespaced_custom_object, g, "v1", ns, "gizmos",
                          resource_version=rv, timeout_seconds=5):
        seen.append((event["type"], event["object"]["metadata"]["name"]))
        w.stop()
    assert seen == [("ADDED", "w")]


def test_pod_binding_and_csr_approval(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, {"metadata": {"name": "p"}, "spec": POD_TEMPLATE["spec"]})
    core.create_namespaced_pod_binding("p", ns, {
        "metadata": {"name": "p"}, "target": {"kind": "Node", "name": "node-a"}},
        _preload_content=False)
    assert core.read_namespaced_pod("p", ns).spec.node_name == "node-a"
    certs = client.CertificatesV1Api(api)
    name = f"csr-{uid()}"
    request = KINDS[[k[0] for k in KINDS].index("certificates-csr")][4]
    csr = certs.create_certificate_signing_request({"metadata": {"name": name}, **request})
    csr.status = client.V1CertificateSigningRequestStatus(conditions=[
        client.V1CertificateSigningRequestCondition(type="Approved", status="True",
                                                    reason="E2E", message="ok")])
    got = certs.replace_certificate_signing_request_approval(name, csr)
    assert [c.type for c in got.status.conditions] == ["Approved"]
    certs.delete_certificate_signing_request(name)


def test_pod_eviction(api: client.ApiClient, ns: str) -> None:
    """An eviction of an unscheduled pod with no PodDisruptionBudget deletes it."""
    core = client.CoreV1Api(api)
    core.create_namespaced_pod(ns, {"metadata": {"name": "p"}, "spec": POD_TEMPLATE["spec"]})
    core.create_namespaced_pod_eviction("p", ns, {"apiVersion": "policy/v1",
                                                  "kind": "Eviction",
                                                  "metadata": {"name": "p"}})
    with pytest.raises(client.ApiException):
        core.read_namespaced_pod("p", ns)


@pytest.mark.parametrize("policy", ["Foreground", "Background", "Orphan"])
def test_delete_propagation_policies(api: client.ApiClient, ns: str, policy: str) -> None:
    """With no dependents, every policy leaves nothing behind (upstream's garbage
    collector drops the foregroundDeletion/orphan finalizers at once)."""
    apps = client.AppsV1Api(api)
    apps.create_namespaced_deployment(ns, {"metadata": {"name": "d"},
                                           "spec": {"selector": SELECTOR,
                                                    "template": POD_TEMPLATE}})
    apps.delete_namespaced_deployment("d", ns, propagation_policy=policy)
    for _ in range(100):
        if apps.list_namespaced_deployment(ns).items == []:
            break
        time.sleep(0.05)
    assert apps.list_namespaced_deployment(ns).items == []
