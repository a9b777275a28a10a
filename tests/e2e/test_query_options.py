"""Query parameters read as kube-apiserver reads them, in raw HTTP requests and from the
official Python client: Go's boolean and int64 conversions, and the Status a bad value
gets (400 for a value that cannot be read, 422 for one that is not allowed)."""

from __future__ import annotations

import json
import urllib.error
import uuid
from typing import Any

import pytest
from kubernetes import client, config, watch

from tests.cluster import Cluster, call


def first_events(cluster: Cluster, path: str, count: int) -> list[dict[str, Any]]:
    """The first `count` lines of a watch stream (the stream's timeout bounds the wait)."""
    events: list[dict[str, Any]] = []
    with cluster.open(cluster.url + path, timeout=30) as resp:
        assert resp.headers["Content-Type"].startswith("application/json")
        for line in resp:
            events.append(json.loads(line))
            if len(events) == count:
                break
    return events


@pytest.fixture
def ns(cluster: Cluster) -> str:
    name = f"q-{uuid.uuid4().hex[:8]}"
    code, _ = call(cluster, "POST", "/api/v1/namespaces",
                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert code == 201
    return name


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


@pytest.mark.parametrize("spelling", ["True", "true", "1", "TRUE", ""],
                         ids=["True", "true", "1", "TRUE", "empty"])
def test_any_true_spelling_of_watch_streams_events(cluster: Cluster, ns: str,
                                                   spelling: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    _, listed = call(cluster, "GET", base)
    call(cluster, "POST", base, cm("w"))
    # The watch starts after the list's resourceVersion, so the create made before it
    # opens is its first event: nothing depends on timing.
    events = first_events(cluster, f"{base}?watch={spelling}&timeoutSeconds=5"
                          f"&resourceVersion={listed['metadata']['resourceVersion']}", 1)
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "w")]


@pytest.mark.parametrize("spelling", ["false", "False", "0"], ids=["false", "False", "0"])
def test_a_false_spelling_of_watch_lists(cluster: Cluster, ns: str, spelling: str) -> None:
    code, body = call(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps?watch={spelling}")
    assert (code, body["kind"]) == (200, "ConfigMapList")


def test_watch_on_a_named_get_reads_the_object_as_upstream(cluster: Cluster, ns: str) -> None:
    call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", cm("one"))
    code, body = call(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps/one?watch=true")
    assert (code, body["kind"], body["metadata"]["name"]) == (200, "ConfigMap", "one")


def test_official_client_watch_stream(cluster: Cluster, ns: str) -> None:
    api = config.new_client_from_config(config_file=cluster.kubeconfig)
    core = client.CoreV1Api(api)
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, cm("seen"))
    w = watch.Watch()
    names = []
    for event in w.stream(core.list_namespaced_config_map, ns, resource_version=rv,
                          timeout_seconds=5):
        names.append((event["type"], event["object"].metadata.name))
        w.stop()
    assert names == [("ADDED", "seen")]


BAD = [
    ("timeout-letters", "configmaps?timeoutSeconds=abc", 400, "BadRequest",
     'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("watch-timeout-letters", "configmaps?watch=true&timeoutSeconds=abc", 400, "BadRequest",
     'strconv.ParseInt: parsing "abc": invalid syntax'),
    ("limit-beyond-int64", "configmaps?limit=9223372036854775808", 400, "BadRequest",
     'strconv.ParseInt: parsing "9223372036854775808": value out of range'),
    ("limit-empty", "configmaps?limit=", 400, "BadRequest",
     'strconv.ParseInt: parsing "": invalid syntax'),
    ("match-unknown", "configmaps?resourceVersion=1&resourceVersionMatch=Newest", 422,
     "Invalid", 'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Unsupported '
     'value: "Newest": supported values: "Exact", "NotOlderThan", ""'),
]


@pytest.mark.parametrize("path,code,reason,message", [b[1:] for b in BAD],
                         ids=[b[0] for b in BAD])
def test_bad_list_parameters_get_a_status(cluster: Cluster, ns: str, path: str, code: int,
                                          reason: str, message: str) -> None:
    got, status = call(cluster, "GET", f"/api/v1/namespaces/{ns}/{path}")
    assert (got, status["kind"], status["reason"], status["message"]) == (
        code, "Status", reason, message)


def apply(cluster: Cluster, path: str, manager: str, obj: dict[str, Any], extra: str = ""
          ) -> tuple[int, dict[str, Any]]:
    return call(cluster, "PATCH", f"{path}?fieldManager={manager}{extra}", obj,
                content_type="application/apply-patch+yaml")


@pytest.mark.parametrize("spelling", ["True", "true", "1"], ids=["True", "true", "1"])
def test_server_side_apply_with_force_takes_over_a_conflicting_field(
        cluster: Cluster, ns: str, spelling: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/shared"
    code, _ = apply(cluster, path, "first", cm("shared", k="1"))
    assert code == 201
    code, status = apply(cluster, path, "second", cm("shared", k="2"))
    assert (code, status["reason"]) == (409, "Conflict")
    code, body = apply(cluster, path, "second", cm("shared", k="2"), f"&force={spelling}")
    assert code == 200, body
    assert body["data"] == {"k": "2"}
    owners = {e["manager"] for e in body["metadata"]["managedFields"]}
    assert "second" in owners


def test_force_on_a_merge_patch_is_invalid(cluster: Cluster, ns: str) -> None:
    call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", cm("m"))
    code, status = call(cluster, "PATCH", f"/api/v1/namespaces/{ns}/configmaps/m?force=true",
                        {"data": {"a": "b"}}, content_type="application/merge-patch+json")
    assert (code, status["reason"], status["message"]) == (
        422, "Invalid", 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not '
        "be specified for non-apply patch")


def test_bad_delete_parameters_leave_the_object(cluster: Cluster, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps/keep"
    call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", cm("keep"))
    code, status = call(cluster, "DELETE", f"{path}?gracePeriodSeconds=soon")
    assert (code, status["message"]) == (400, 'strconv.ParseInt: parsing "soon": invalid syntax')
    code, status = call(cluster, "DELETE", f"{path}?propagationPolicy=Later")
    assert (code, status["reason"]) == (422, "Invalid")
    code, _ = call(cluster, "GET", path)
    assert code == 200
