from __future__ import annotations

from typing import Any

import pytest

from kubelite.api import openapi, openapi_v2, openapi_v3
from kubelite.api.catalogue import RESOURCES, ResourceSpec
from kubelite.api.openapi import refs_in
from kubelite.machinery.delete_options import DeleteOptions
from kubelite.machinery.options import (
    CreateOptions,
    GetOptions,
    ListOptions,
    PatchOptions,
    UpdateOptions,
)
from kubelite.machinery.parameters import PARAMETERS

CRONTAB_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {"type": "object", "properties": {
            "cronSpec": {"type": "string", "description": "when to run"},
            "replicas": {"type": "integer", "minimum": 1},
        }},
    },
}


def _crontab(schema: dict[str, Any] = CRONTAB_SCHEMA) -> ResourceSpec:
    return ResourceSpec("stable.example.com", ("v1",), "CronTab", "crontabs",
                        short_names=("ct",), subresources=("status", "scale"),
                        crd_schemas={"v1": schema})


def _operations(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for item in doc["paths"].values()
            for method, op in item.items() if method != "parameters"}


def _params(op: dict[str, Any]) -> set[str]:
    return {p["name"] for p in op.get("parameters", ())}


@pytest.mark.parametrize(
    ("path", "method", "operation_id", "action", "kind"),
    [
        ("/api/v1/namespaces/{namespace}/pods", "get", "listCoreV1NamespacedPod", "list", "Pod"),
        ("/api/v1/namespaces/{namespace}/pods", "post", "createCoreV1NamespacedPod", "post", "Pod"),
        ("/api/v1/namespaces/{namespace}/pods", "delete", "deleteCoreV1CollectionNamespacedPod",
         "deletecollection", "Pod"),
        ("/api/v1/namespaces/{namespace}/pods/{name}", "patch", "patchCoreV1NamespacedPod",
         "patch", "Pod"),
        ("/api/v1/namespaces/{namespace}/pods/{name}/status", "put",
         "replaceCoreV1NamespacedPodStatus", "put", "Pod"),
        ("/api/v1/namespaces/{namespace}/pods/{name}/binding", "post",
         "createCoreV1NamespacedPodBinding", "post", "Binding"),
        ("/api/v1/namespaces/{namespace}/pods/{name}/eviction", "post",
         "createCoreV1NamespacedPodEviction", "post", "Eviction"),
        ("/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", "post",
         "createCoreV1NamespacedServiceAccountToken", "post", "TokenRequest"),
        ("/api/v1/pods", "get", "listCoreV1PodForAllNamespaces", "list", "Pod"),
        ("/api/v1/watch/namespaces/{namespace}/pods/{name}", "get", "watchCoreV1NamespacedPod",
         "watch", "Pod"),
        ("/api/v1/watch/pods", "get", "watchCoreV1PodListForAllNamespaces", "watchlist", "Pod"),
        ("/api/v1/nodes/{name}", "get", "readCoreV1Node", "get", "Node"),
        ("/api/v1/namespaces/{name}/finalize", "put", "replaceCoreV1NamespaceFinalize", "put",
         "Namespace"),
        ("/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "patch",
         "patchAppsV1NamespacedDeploymentScale", "patch", "Scale"),
        ("/apis/rbac.authorization.k8s.io/v1/clusterroles", "get",
         "listRbacAuthorizationV1ClusterRole", "list", "ClusterRole"),
        ("/apis/autoscaling/v1/namespaces/{namespace}/horizontalpodautoscalers", "get",
         "listAutoscalingV1NamespacedHorizontalPodAutoscaler", "list", "HorizontalPodAutoscaler"),
    ],
    ids=lambda v: v if isinstance(v, str) and v.startswith(("list", "create", "delete", "patch",
                                                             "replace", "watch", "read")) else None,
)
def test_v2_document_has_upstream_operation(path: str, method: str, operation_id: str,
                                           action: str, kind: str) -> None:
    op = openapi_v2.openapi_v2()["paths"][path][method]
    assert op["operationId"] == operation_id
    assert op["x-kubernetes-action"] == action
    assert op["x-kubernetes-group-version-kind"]["kind"] == kind


@pytest.mark.parametrize("path", [
    "/api/v1/namespaces/{namespace}/pods/{name}/binding",
    "/api/v1/namespaces/{namespace}/pods/{name}/eviction",
    "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token",
], ids=["binding", "eviction", "token"])
def test_create_only_subresources_offer_only_post(path: str) -> None:
    item = openapi_v2.openapi_v2()["paths"][path]
    assert set(item) - {"parameters"} == {"post"}


def test_namespaces_have_no_collection_delete_operation() -> None:
    assert "delete" not in openapi_v2.openapi_v2()["paths"]["/api/v1/namespaces"]


@pytest.mark.parametrize("version", ["v2", "v3"], ids=["v2", "v3"])
def test_every_write_operation_offers_field_validation_dry_run_and_field_manager(version: str) -> None:
    docs = ([openapi_v2.openapi_v2()] if version == "v2" else
            [openapi_v3.openapi_v3_document(g, v) for g, v in (("", "v1"), ("apps", "v1"))])
    for doc in docs:
        for item in doc["paths"].values():
            for method in ("post", "put", "patch"):
                if method in item:
                    assert {"fieldValidation", "dryRun", "fieldManager"} <= _params(item[method])


def test_v2_definitions_are_swagger_form_and_every_ref_resolves() -> None:
    doc = openapi_v2.openapi_v2()
    defs = doc["definitions"]
    assert set(refs_in(doc, "#/definitions/")) <= set(defs)
    assert not list(refs_in(doc, "#/$defs/"))
    pod = defs["io.k8s.api.core.v1.Pod"]
    assert pod["x-kubernetes-group-version-kind"] == [{"group": "", "kind": "Pod", "version": "v1"}]
    assert pod["properties"]["kind"] == {"description": pod["properties"]["kind"]["description"],
                                         "type": "string"}
    assert pod["properties"]["metadata"]["$ref"].endswith("meta.v1.ObjectMeta")
    assert defs[openapi.INT_OR_STRING]["type"] == "string"
    assert defs[openapi.INT_OR_STRING]["format"] == "int-or-string"
    containers = defs["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    assert containers["x-kubernetes-list-type"] == "map"


def test_v3_index_lists_group_versions_with_hash_of_each_document() -> None:
    paths = openapi_v3.openapi_v3_index()["paths"]
    assert {"api/v1", "apis/apps/v1", "apis/autoscaling/v2", "apis/autoscaling/v1"} <= set(paths)
    url = paths["apis/apps/v1"]["serverRelativeURL"]
    digest = openapi.content_hash(openapi_v3.openapi_v3_document("apps", "v1"))
    assert url == f"/openapi/v3/apis/apps/v1?hash={digest}"


@pytest.mark.parametrize(("group", "version"), [("", "v1"), ("apps", "v1"),
                                                ("apiextensions.k8s.io", "v1")],
                         ids=["core", "apps", "apiextensions"])
def test_v3_document_resolves_every_ref_it_contains(group: str, version: str) -> None:
    doc = openapi_v3.openapi_v3_document(group, version)
    schemas = doc["components"]["schemas"]
    assert set(refs_in(doc, "#/components/schemas/")) <= set(schemas)
    assert not list(refs_in(doc, "#/$defs/")) and not list(refs_in(doc, "#/definitions/"))


def test_v3_document_holds_only_its_group_version() -> None:
    doc = openapi_v3.openapi_v3_document("apps", "v1")
    assert all(p.startswith("/apis/apps/v1/") for p in doc["paths"])
    assert "io.k8s.api.core.v1.Pod" not in doc["components"]["schemas"]
    assert "io.k8s.api.core.v1.PodSpec" in doc["components"]["schemas"]


def test_v3_schemas_wrap_described_refs_in_all_of_as_kube_openapi_does() -> None:
    schemas = openapi_v3.openapi_v3_document("", "v1")["components"]["schemas"]
    assert schemas["io.k8s.api.core.v1.Pod"]["properties"]["spec"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.api.core.v1.PodSpec"}]
    assert schemas[openapi.INT_OR_STRING]["oneOf"] == [{"type": "integer"}, {"type": "string"}]
    assert schemas[openapi.QUANTITY]["oneOf"] == [{"type": "string"}, {"type": "number"}]


def test_kubectl_explain_finds_kind_schema_through_operation_gvk() -> None:
    doc = openapi_v3.openapi_v3_document("", "v1")
    gvk = doc["paths"]["/api/v1/namespaces/{namespace}/pods"]["get"]["x-kubernetes-group-version-kind"]
    matches = [n for n, s in doc["components"]["schemas"].items()
               if gvk in s.get("x-kubernetes-group-version-kind", ())]
    assert matches == ["io.k8s.api.core.v1.Pod"]


def test_v3_document_for_custom_resource_wraps_crd_schema_in_kind_and_list() -> None:
    doc = openapi_v3.openapi_v3_document("stable.example.com", "v1", (*RESOURCES, _crontab()))
    schemas = doc["components"]["schemas"]
    kind = schemas["com.example.stable.v1.CronTab"]
    assert kind["x-kubernetes-group-version-kind"] == [
        {"group": "stable.example.com", "kind": "CronTab", "version": "v1"}]
    assert set(kind["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert kind["properties"]["metadata"]["allOf"][0]["$ref"].endswith("meta.v1.ObjectMeta")
    assert kind["properties"]["spec"]["properties"]["replicas"]["minimum"] == 1
    listed = schemas["com.example.stable.v1.CronTabList"]["properties"]["items"]["items"]
    assert listed == {"$ref": "#/components/schemas/com.example.stable.v1.CronTab"}
    ops = _operations(doc)
    assert "patchStableExampleComV1NamespacedCronTabScale" in ops
    patch = ops["patchStableExampleComV1NamespacedCronTab"]
    assert "fieldValidation" in _params(patch)
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]
    assert set(refs_in(doc, "#/components/schemas/")) <= set(schemas)


def test_documents_are_cached_per_resource_set_and_crd_schema_content() -> None:
    base = (*RESOURCES, _crontab())
    assert openapi_v3.openapi_v3_document("", "v1") is openapi_v3.openapi_v3_document("", "v1")
    first = openapi_v3.openapi_v3_hash("stable.example.com", "v1", base)
    changed = {**CRONTAB_SCHEMA, "description": "changed"}
    second = openapi_v3.openapi_v3_hash("stable.example.com", "v1", (*RESOURCES, _crontab(changed)))
    assert first != second
    assert openapi_v2.openapi_v2() is openapi_v2.openapi_v2()
    assert openapi_v2.openapi_v2_json().startswith(b'{"swagger":"2.0"')


def test_unserved_group_version_is_a_lookup_error() -> None:
    with pytest.raises(LookupError):
        openapi_v3.openapi_v3_document("apps", "v1beta1")


@pytest.mark.parametrize(("path", "expected"),
                         [("api/v1", ("", "v1")), ("apis/apps/v1", ("apps", "v1")),
                          ("apis/apps", None), ("version", None)],
                         ids=["core", "apps", "group-only", "other"])
def test_parse_path_maps_index_keys_to_group_versions(path: str,
                                                      expected: tuple[str, str] | None) -> None:
    assert openapi_v3.parse_path(path) == expected


# The options each action's query is decoded into by the API server.
_DECODED_BY = {
    "list": (ListOptions,), "watch": (ListOptions,), "watchlist": (ListOptions,),
    "get": (GetOptions,), "post": (CreateOptions,), "put": (UpdateOptions,),
    "patch": (PatchOptions,), "delete": (DeleteOptions,),
    "deletecollection": (DeleteOptions, ListOptions),
}


@pytest.mark.parametrize("v3", [False, True], ids=["v2", "v3"])
def test_every_advertised_query_parameter_is_one_the_server_decodes(v3: bool) -> None:
    docs = ([openapi_v3.build("", "v1", [r for r in RESOURCES if r.group == ""]),
             openapi_v3.build("apps", "v1", [r for r in RESOURCES if r.group == "apps"])]
            if v3 else [openapi_v2.openapi_v2()])
    seen: set[str] = set()
    for doc in docs:
        for op in _operations(doc).values():
            if "x-kubernetes-action" not in op:
                continue  # discovery (getCoreV1APIResources): no resource options
            decoded = {p.name for cls in _DECODED_BY[op["x-kubernetes-action"]]
                       for p in cls.parameters()}
            advertised = {p["name"] for p in op.get("parameters", ()) if p["in"] == "query"}
            assert advertised <= decoded, op["operationId"]
            seen |= advertised
    # ...and every parameter an options class decodes is advertised somewhere.
    assert seen == {p.name for cls in (ListOptions, CreateOptions, UpdateOptions,
                                       PatchOptions, DeleteOptions) for p in cls.parameters()}


def test_query_parameters_are_documented_with_their_codec_type() -> None:
    doc = openapi_v2.openapi_v2()
    op = doc["paths"]["/api/v1/namespaces/{namespace}/pods"]["get"]
    types = {p["name"]: p["type"] for p in op["parameters"]}
    assert types["watch"] == types["allowWatchBookmarks"] == "boolean"
    assert types["limit"] == types["timeoutSeconds"] == "integer"
    assert types["labelSelector"] == PARAMETERS["labelSelector"].codec.openapi_type == "string"
