"""Routing (routing.py and APIServer._route): every resource path shape, parsed and
then served in process, and the 404/405 Status for paths and methods that serve
nothing."""

from __future__ import annotations

import pytest

from kubelite.apiserver.conftest import Call
from kubelite.apiserver.routing import RequestInfo, parse_resource_path

NO_RESOURCE = "the server could not find the requested resource"
NO_METHOD = "the server does not allow this method on the requested resource"


@pytest.mark.parametrize(("method", "path", "watch", "expected"), [
    ("GET", "/api/v1/pods", False, RequestInfo("", "v1", "", "pods", "", "", "list")),
    ("GET", "/api/v1/namespaces/ns/pods", False,
     RequestInfo("", "v1", "ns", "pods", "", "", "list")),
    ("GET", "/api/v1/namespaces/ns/pods/p", False,
     RequestInfo("", "v1", "ns", "pods", "p", "", "get")),
    ("PUT", "/api/v1/namespaces/ns/pods/p/status", False,
     RequestInfo("", "v1", "ns", "pods", "p", "status", "update")),
    ("GET", "/apis/apps/v1/namespaces/ns/deployments/d/scale", False,
     RequestInfo("apps", "v1", "ns", "deployments", "d", "scale", "get")),
    ("GET", "/api/v1/namespaces", False,
     RequestInfo("", "v1", "", "namespaces", "", "", "list")),
    ("GET", "/api/v1/namespaces/ns", False,
     RequestInfo("", "v1", "", "namespaces", "ns", "", "get")),
    ("PUT", "/api/v1/namespaces/ns/status", False,
     RequestInfo("", "v1", "", "namespaces", "ns", "status", "update")),
    ("PUT", "/api/v1/namespaces/ns/finalize", False,
     RequestInfo("", "v1", "", "namespaces", "ns", "finalize", "update")),
    ("GET", "/api/v1/nodes/n", False, RequestInfo("", "v1", "", "nodes", "n", "", "get")),
    ("GET", "/api/v1/pods", True, RequestInfo("", "v1", "", "pods", "", "", "watch")),
    ("GET", "/api/v1/watch/namespaces/ns/pods", False,
     RequestInfo("", "v1", "ns", "pods", "", "", "watch")),
    ("GET", "/apis/apps/v1/watch/namespaces/ns/deployments/d", False,
     RequestInfo("apps", "v1", "ns", "deployments", "d", "", "watch")),
    ("HEAD", "/api/v1/pods", False, RequestInfo("", "v1", "", "pods", "", "", "list")),
    ("POST", "/api/v1/namespaces/ns/pods", False,
     RequestInfo("", "v1", "ns", "pods", "", "", "create")),
    ("PATCH", "/api/v1/namespaces/ns/pods/p", False,
     RequestInfo("", "v1", "ns", "pods", "p", "", "patch")),
    ("DELETE", "/api/v1/namespaces/ns/pods/p", False,
     RequestInfo("", "v1", "ns", "pods", "p", "", "delete")),
    ("DELETE", "/api/v1/namespaces/ns/pods", False,
     RequestInfo("", "v1", "ns", "pods", "", "", "deletecollection")),
    ("POST", "/api/v1/namespaces/ns/pods/p/binding", False,
     RequestInfo("", "v1", "ns", "pods", "p", "binding", "create")),
    ("GET", "/api/v1/namespaces/ns/pods/p/log", False,
     RequestInfo("", "v1", "ns", "pods", "p", "log", "get")),
    ("GET", "/api/v1/namespaces/ns/pods/p/exec", False,
     RequestInfo("", "v1", "ns", "pods", "p", "exec", "create")),
    ("POST", "/api/v1/namespaces/ns/pods/p/portforward", False,
     RequestInfo("", "v1", "ns", "pods", "p", "portforward", "create")),
    ("GET", "/api/v1/nodes/n/proxy/stats/summary", False,
     RequestInfo("", "v1", "", "nodes", "n", "proxy", "get")),
], ids=["cluster-list", "namespaced-list", "get", "status-update", "group-scale",
        "namespaces", "namespace", "namespace-status", "namespace-finalize", "cluster-get",
        "watch-param", "legacy-watch", "legacy-watch-one", "head", "create", "patch",
        "delete", "deletecollection", "binding", "log", "exec-by-get-is-create",
        "portforward", "node-proxy-path"])
def test_resource_path_shapes_parse(method: str, path: str, watch: bool,
                                    expected: RequestInfo) -> None:
    assert parse_resource_path(method, path, watch_param=watch) == expected


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"), ("GET", "/api"), ("GET", "/api/v1"), ("GET", "/apis/apps"),
    ("GET", "/apis/apps/v1"), ("GET", "/version"), ("GET", "/foo/v1/pods"),
    ("GET", "/api/v1/namespaces/ns/pods/p/status/extra"), ("OPTIONS", "/api/v1/pods"),
], ids=["root", "api", "core-version", "group", "group-version", "version", "other-root",
        "too-deep", "unknown-method"])
def test_non_resource_paths_do_not_parse(method: str, path: str) -> None:
    assert parse_resource_path(method, path, watch_param=False) is None


@pytest.fixture
async def objects(call: Call) -> None:
    pod = {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    deploy = {"metadata": {"name": "d"}, "spec": {
        "selector": {"matchLabels": {"a": "b"}}, "template": {
            "metadata": {"labels": {"a": "b"}}, "spec": pod["spec"]}}}
    for path, body in (("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "c"}}),
                       ("/api/v1/namespaces/default/pods", pod),
                       ("/apis/apps/v1/namespaces/default/deployments", deploy),
                       ("/api/v1/nodes", {"metadata": {"name": "n"}})):
        code, made = await call("POST", path, body=body)
        assert code == 201, made


@pytest.mark.parametrize(("path", "kind"), [
    ("/api/v1/namespaces", "NamespaceList"),
    ("/api/v1/namespaces/default", "Namespace"),
    ("/api/v1/namespaces/default/status", "Namespace"),
    ("/api/v1/configmaps", "ConfigMapList"),
    ("/api/v1/namespaces/default/configmaps", "ConfigMapList"),
    ("/api/v1/namespaces/default/configmaps/c", "ConfigMap"),
    ("/api/v1/nodes/n", "Node"),
    ("/api/v1/namespaces/default/pods/p/status", "Pod"),
    ("/apis/apps/v1/deployments", "DeploymentList"),
    ("/apis/apps/v1/namespaces/default/deployments/d", "Deployment"),
    ("/apis/apps/v1/namespaces/default/deployments/d/scale", "Scale"),
    ("/apis/events.k8s.io/v1/events", "EventList"),
    ("/api", "APIVersions"),
    ("/api/v1", "APIResourceList"),
    ("/apis", "APIGroupList"),
    ("/apis/apps", "APIGroup"),
    ("/apis/apps/v1", "APIResourceList"),
], ids=lambda v: v if isinstance(v, str) and v.startswith("/") else None)
async def test_every_path_shape_serves_its_kind(objects: None, call: Call, path: str,
                                                kind: str) -> None:
    code, body = await call("GET", path)
    assert (code, body["kind"]) == (200, kind)


@pytest.mark.parametrize(("path", "message"), [
    ("/api/v1/namespaces/default/configmaps/missing", 'configmaps "missing" not found'),
    ("/apis/apps/v1/namespaces/default/deployments/missing",
     'deployments.apps "missing" not found'),
    ("/api/v1/nodes/missing", 'nodes "missing" not found'),
    ("/api/v1/namespaces/missing", 'namespaces "missing" not found'),
    ("/api/v1/namespaces/default/nodes", NO_RESOURCE),
    ("/api/v1/namespaces/default/nodes/n", NO_RESOURCE),
    ("/api/v1/widgets", NO_RESOURCE),
    ("/apis/apps/v2/deployments", NO_RESOURCE),
    ("/apis/example.com/v1/widgets", NO_RESOURCE),
    ("/api/v1/namespaces/default/configmaps/c/status", NO_RESOURCE),
    ("/api/v1/namespaces/default/configmaps/c/x/y", NO_RESOURCE),
    ("/api/v2", NO_RESOURCE),
    ("/foo", NO_RESOURCE),
], ids=["missing-object", "missing-group-object", "missing-cluster-object",
        "missing-namespace", "cluster-resource-in-namespace",
        "cluster-object-in-namespace", "unknown-resource", "unserved-version",
        "unknown-group", "subresource-the-kind-lacks", "too-deep", "unknown-version",
        "unknown-root"])
async def test_paths_that_serve_nothing_are_404_status(objects: None, call: Call,
                                                       path: str, message: str) -> None:
    code, status = await call("GET", path)
    assert (code, status["kind"], status["apiVersion"], status["status"]) == (
        404, "Status", "v1", "Failure")
    assert (status["reason"], status["code"], status["message"]) == (
        "NotFound", 404, message)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/namespaces/default/configmaps/c"),
    ("PUT", "/api/v1/namespaces/default/configmaps"),
    ("PATCH", "/api/v1/namespaces/default/configmaps"),
    ("DELETE", "/api/v1/namespaces"),
    ("POST", "/api/v1/namespaces/default/pods/p/status"),
    ("POST", "/version"),
    ("DELETE", "/healthz"),
], ids=["create-on-a-name", "update-on-a-collection", "patch-on-a-collection",
        "deletecollection-of-namespaces", "create-on-status", "post-version",
        "delete-healthz"])
async def test_methods_a_path_does_not_take_are_405_status(
        objects: None, call: Call, method: str, path: str) -> None:
    code, status = await call(method, path, body={} if method != "DELETE" else None)
    assert (code, status["kind"], status["reason"], status["code"], status["message"]) == (
        405, "Status", "MethodNotAllowed", 405, NO_METHOD)
