"""The REST API's semantics in raw HTTP requests: status codes, versions, watch, CRDs."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from tests.cluster import Cluster, call


@pytest.fixture
def ns(cluster: Cluster) -> str:
    name = f"r-{uuid.uuid4().hex[:8]}"
    code, _ = call(cluster, "POST", "/api/v1/namespaces",
                   {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    assert code == 201
    return name


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


ERRORS = [
    ("malformed-json", "POST", b"{not json", "application/json", 400, "BadRequest"),
    ("malformed-yaml", "POST", b"a: [1", "application/yaml", 400, "BadRequest"),
    ("wrong-kind", "POST", json.dumps({"apiVersion": "v1", "kind": "Secret",
                                       "metadata": {"name": "x"}}).encode(),
     "application/json", 400, "BadRequest"),
    ("wrong-api-version", "POST", json.dumps({"apiVersion": "apps/v1", "kind": "ConfigMap",
                                              "metadata": {"name": "x"}}).encode(),
     "application/json", 400, "BadRequest"),
    ("invalid-name", "POST", json.dumps(cm("Bad_Name")).encode(), "application/json", 422,
     "Invalid"),
    ("unsupported-media", "POST", b"<xml/>", "application/xml", 415, "UnsupportedMediaType"),
    ("too-large", "POST", json.dumps(cm("big", v="x" * (3 * 1024 * 1024 + 10))).encode(),
     "application/json", 413, "RequestEntityTooLarge"),
]


@pytest.mark.parametrize("case,method,raw,ctype,code,reason", ERRORS,
                         ids=[e[0] for e in ERRORS])
def test_bad_input_gets_status_and_store_is_untouched(cluster: Cluster, ns: str, case: str,
                                                      method: str, raw: bytes, ctype: str,
                                                      code: int, reason: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    got_code, status = call(cluster, method, path, raw=raw, content_type=ctype)
    assert got_code == code
    assert (status["kind"], status["reason"], status["code"]) == ("Status", reason, code)
    _, listed = call(cluster, "GET", path)
    assert listed["items"] == []
    with cluster.open(cluster.url + "/readyz", timeout=10) as resp:
        assert resp.status == 200  # the server keeps serving


def test_invalid_has_field_causes(cluster: Cluster, ns: str) -> None:
    code, status = call(cluster, "POST", f"/apis/apps/v1/namespaces/{ns}/deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "c"}},
                              "spec": {"containers": [{"name": "c", "image": "i"}]}}}})
    assert code == 422 and status["reason"] == "Invalid"
    fields = {c["field"] for c in status["details"]["causes"]}
    assert "spec.template.metadata.labels" in fields


def test_conflict_not_found_already_exists_method(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    code, created = call(cluster, "POST", base, cm("a", k="1"))
    assert code == 201
    code, status = call(cluster, "POST", base, cm("a"))
    assert (code, status["reason"]) == (409, "AlreadyExists")
    stale = dict(created, data={"k": "2"})
    assert call(cluster, "PUT", f"{base}/a", stale)[0] == 200
    code, status = call(cluster, "PUT", f"{base}/a", dict(created, data={"k": "3"}))
    assert (code, status["reason"]) == (409, "Conflict")
    code, status = call(cluster, "GET", f"{base}/missing")
    assert (code, status["reason"], status["details"]["name"]) == (404, "NotFound", "missing")
    assert call(cluster, "POST", f"{base}/a", cm("a"))[0] == 405
    code, status = call(cluster, "GET", "/api/v1/nonsense")
    assert code == 404


def test_missing_and_terminating_namespace(cluster: Cluster, ns: str) -> None:
    code, status = call(cluster, "POST", "/api/v1/namespaces/nowhere/configmaps", cm("x"))
    assert (code, status["reason"]) == (404, "NotFound")
    assert 'namespaces "nowhere" not found' in status["message"]
    held = cm("held")
    held["metadata"]["finalizers"] = ["example.com/hold"]  # keeps the namespace Terminating
    call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", held)
    code, namespace = call(cluster, "DELETE", f"/api/v1/namespaces/{ns}")
    assert code == 200 and namespace["status"]["phase"] == "Terminating"
    code, status = call(cluster, "POST", f"/api/v1/namespaces/{ns}/configmaps", cm("new"))
    assert (code, status["reason"]) == (403, "Forbidden")
    assert "being terminated" in status["message"]
    call(cluster, "PATCH", f"/api/v1/namespaces/{ns}/configmaps/held",
         {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json")
    deadline = time.monotonic() + 20
    while call(cluster, "GET", f"/api/v1/namespaces/{ns}")[0] != 404:
        assert time.monotonic() < deadline, "the emptied namespace was never deleted"
        time.sleep(0.1)


def test_generation_uid_and_status_subresource(cluster: Cluster, ns: str) -> None:
    base = f"/apis/apps/v1/namespaces/{ns}/deployments"
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"generateName": "d-"},
            "spec": {"selector": {"matchLabels": {"a": "b"}},
                     "template": {"metadata": {"labels": {"a": "b"}},
                                  "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    code, dep = call(cluster, "POST", base, body)
    assert code == 201 and dep["metadata"]["name"].startswith("d-")
    name = dep["metadata"]["name"]
    assert dep["metadata"]["generation"] == 1 and dep["metadata"]["uid"]
    # A status write through the main resource is ignored; through /status it lands.
    dep["status"] = {"replicas": 7}
    code, dep = call(cluster, "PUT", f"{base}/{name}", dep)
    assert code == 200 and dep["status"].get("replicas") != 7
    assert dep["metadata"]["generation"] == 1
    dep["status"] = {"replicas": 7}
    dep["spec"]["replicas"] = 9
    code, dep = call(cluster, "PUT", f"{base}/{name}/status", dep)
    assert code == 200 and dep["status"]["replicas"] == 7 and dep["spec"]["replicas"] == 1
    code, dep = call(cluster, "PATCH", f"{base}/{name}", {"spec": {"replicas": 3}},
                     content_type="application/merge-patch+json")
    assert dep["metadata"]["generation"] == 2
    code, scale = call(cluster, "GET", f"{base}/{name}/scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 3
    assert scale["status"]["selector"] == "a=b"


def test_dry_run_writes_nothing(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    code, obj = call(cluster, "POST", f"{base}?dryRun=All", cm("dry"))
    assert code == 201 and obj["metadata"]["name"] == "dry"
    assert call(cluster, "GET", f"{base}/dry")[0] == 404


def test_finalizers_hold_deletion(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    body = cm("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    call(cluster, "POST", base, body)
    code, obj = call(cluster, "DELETE", f"{base}/held")
    assert code == 200 and obj["metadata"]["deletionTimestamp"]
    code, obj = call(cluster, "GET", f"{base}/held")
    assert code == 200
    code, _ = call(cluster, "PATCH", f"{base}/held", {"metadata": {"finalizers": None}},
                   content_type="application/merge-patch+json")
    assert code == 200
    assert call(cluster, "GET", f"{base}/held")[0] == 404


def test_hpa_readable_in_both_versions(cluster: Cluster, ns: str) -> None:
    code, _ = call(cluster, "POST", f"/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers", {
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "h"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "d"},
                 "minReplicas": 1, "maxReplicas": 5, "targetCPUUtilizationPercentage": 60}})
    assert code == 201
    _, v2 = call(cluster, "GET", f"/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/h")
    assert v2["apiVersion"] == "autoscaling/v2"
    assert v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    _, v1 = call(cluster, "GET", f"/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers/h")
    assert v1["spec"]["targetCPUUtilizationPercentage"] == 60


def test_core_events_visible_as_events_k8s_io(cluster: Cluster, ns: str) -> None:
    code, _ = call(cluster, "POST", f"/api/v1/namespaces/{ns}/events", {
        "apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": ns},
        "reason": "Started", "message": "hello", "type": "Normal"})
    assert code == 201
    _, ev = call(cluster, "GET", f"/apis/events.k8s.io/v1/namespaces/{ns}/events/e1")
    assert ev["note"] == "hello" and ev["regarding"]["name"] == "p"
    _, listed = call(cluster, "GET",
                     f"/api/v1/namespaces/{ns}/events?fieldSelector=reason%3DStarted")
    assert [e["metadata"]["name"] for e in listed["items"]] == ["e1"]


def test_services_get_cluster_ips_and_node_ports(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/services"
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s1"},
           "spec": {"type": "NodePort", "selector": {"a": "b"}, "ports": [{"port": 80}]}}
    code, s1 = call(cluster, "POST", base, svc)
    assert code == 201
    assert s1["spec"]["clusterIP"].startswith("10.43.")
    port = s1["spec"]["ports"][0]["nodePort"]
    assert 30000 <= port <= 32767
    svc2 = json.loads(json.dumps(svc))
    svc2["metadata"]["name"] = "s2"
    svc2["spec"]["ports"][0]["nodePort"] = port
    code, status = call(cluster, "POST", base, svc2)
    assert code == 422 and "already allocated" in status["message"]
    svc2["spec"]["ports"][0].pop("nodePort")
    svc2["spec"]["clusterIP"] = s1["spec"]["clusterIP"]
    code, status = call(cluster, "POST", base, svc2)
    assert code == 422 and "already allocated" in status["message"]
    # Back to ClusterIP: the NodePort is freed, and reusable at once.
    code, s1 = call(cluster, "PATCH", f"{base}/s1", {"spec": {"type": "ClusterIP"}},
                    content_type="application/merge-patch+json")
    assert code == 200 and "nodePort" not in s1["spec"]["ports"][0]
    svc2["spec"].pop("clusterIP")
    svc2["spec"]["ports"][0]["nodePort"] = port
    code, s2 = call(cluster, "POST", base, svc2)
    assert code == 201, s2
    # Deleting a Service frees its address and ports for others.
    call(cluster, "DELETE", f"{base}/s2")
    deadline = time.monotonic() + 10
    while True:
        svc3 = dict(svc2, metadata={"name": "s3"})
        code, s3 = call(cluster, "POST", base, svc3)
        if code == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert code == 201 and s3["spec"]["ports"][0]["nodePort"] == port


def test_watch_from_compacted_or_old_revision_is_gone(cluster: Cluster, ns: str) -> None:
    code, body = call(cluster, "GET", f"/api/v1/namespaces/{ns}/configmaps?watch=1"
                      "&resourceVersion=1&timeoutSeconds=1")
    # Either the history still reaches back to 1 (a stream of events), or one ERROR 410.
    assert code == 200


def test_list_pagination_is_consistent(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    for i in range(7):
        call(cluster, "POST", base, cm(f"p{i}"))
    _, page = call(cluster, "GET", f"{base}?limit=3")
    names = [i["metadata"]["name"] for i in page["items"]]
    assert page["metadata"]["remainingItemCount"] == 4
    call(cluster, "POST", base, cm("p9-late"))  # after the first page: not in this list
    while page["metadata"].get("continue"):
        _, page = call(cluster, "GET", f"{base}?limit=3&continue={page['metadata']['continue']}")
        names += [i["metadata"]["name"] for i in page["items"]]
    assert names == [f"p{i}" for i in range(7)]


def test_watch_list_ends_initial_events_with_bookmark(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    call(cluster, "POST", base, cm("w1"))
    req = urllib.request.Request(
        cluster.url + base + "?watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
        "&resourceVersionMatch=NotOlderThan&timeoutSeconds=2")
    events = []
    with cluster.open(req, timeout=10) as resp:
        for line in resp:
            events.append(json.loads(line))
            if events[-1]["type"] == "BOOKMARK":
                break
    assert [e["type"] for e in events] == ["ADDED", "BOOKMARK"]
    assert events[1]["object"]["metadata"]["annotations"] == {
        "k8s.io/initial-events-end": "true"}


def test_watch_delivers_changes_in_order_with_selector(cluster: Cluster, ns: str) -> None:
    base = f"/api/v1/namespaces/{ns}/configmaps"
    _, listed = call(cluster, "GET", base)
    rv = listed["metadata"]["resourceVersion"]
    events: list[dict[str, Any]] = []
    done = threading.Event()

    def follow() -> None:
        req = urllib.request.Request(f"{cluster.url}{base}?watch=1&resourceVersion={rv}"
                                     "&labelSelector=app%3Dx&timeoutSeconds=5")
        with cluster.open(req, timeout=10) as resp:
            for line in resp:
                events.append(json.loads(line))
                if len(events) == 3:
                    break
        done.set()

    thread = threading.Thread(target=follow)
    thread.start()
    time.sleep(0.2)  # the watch starts at `rv`, so nothing is lost even if it starts late
    body = cm("watched")
    body["metadata"]["labels"] = {"app": "x"}
    call(cluster, "POST", base, body)
    call(cluster, "PATCH", f"{base}/watched", {"metadata": {"labels": {"app": "y"}}},
         content_type="application/merge-patch+json")
    call(cluster, "POST", base, cm("unlabelled"))
    call(cluster, "PATCH", f"{base}/watched", {"metadata": {"labels": {"app": "x"}}},
         content_type="application/merge-patch+json")
    thread.join(15)
    assert [e["type"] for e in events] == ["ADDED", "DELETED", "ADDED"]


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "crontabs.stable.example.com"},
    "spec": {
        "group": "stable.example.com", "scope": "Namespaced",
        "names": {"plural": "crontabs", "singular": "crontab", "kind": "CronTab",
                  "shortNames": ["ct"], "categories": ["all"]},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "subresources": {"status": {}, "scale": {
                "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas"}},
            "additionalPrinterColumns": [
                {"name": "Spec", "type": "string", "jsonPath": ".spec.cronSpec"},
                {"name": "Replicas", "type": "integer", "jsonPath": ".spec.replicas"}],
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {
                    "cronSpec": {"type": "string"},
                    "image": {"type": "string", "default": "busybox"},
                    "replicas": {"type": "integer", "minimum": 0}}},
                "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}},
            }}},
        }],
    },
}


def test_custom_resource_definition_lifecycle(cluster: Cluster, ns: str) -> None:
    code, _ = call(cluster, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                   CRD)
    assert code in (201, 409)
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=20s",
                    "crd/crontabs.stable.example.com")
    base = f"/apis/stable.example.com/v1/namespaces/{ns}/crontabs"
    code, obj = call(cluster, "POST", base, {
        "apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "c"},
        "spec": {"cronSpec": "* * * * */5", "replicas": 1, "unknown": "pruned"}})
    assert code == 201, obj
    assert obj["spec"] == {"cronSpec": "* * * * */5", "replicas": 1, "image": "busybox"}
    code, status = call(cluster, "POST", base, {
        "apiVersion": "stable.example.com/v1", "kind": "CronTab", "metadata": {"name": "bad"},
        "spec": {"replicas": -1}})
    assert code == 422 and status["reason"] == "Invalid"
    cluster.kubectl("scale", "-n", ns, "crontab/c", "--replicas=4")
    _, scale = call(cluster, "GET", f"{base}/c/scale")
    assert (scale["kind"], scale["spec"]["replicas"]) == ("Scale", 4)
    obj["status"] = {"replicas": 2}
    # Custom resources allow no unconditional update (AllowUnconditionalUpdate false).
    code, status = call(cluster, "PUT", f"{base}/c/status", {**obj, "metadata": {
        **obj["metadata"], "resourceVersion": ""}})
    assert code == 422 and status["details"]["causes"][0]["field"] == "metadata.resourceVersion"
    _, current = call(cluster, "GET", f"{base}/c")
    code, _ = call(cluster, "PUT", f"{base}/c/status", {**current, "status": {"replicas": 2}})
    assert code == 200
    _, obj = call(cluster, "GET", f"{base}/c")
    assert obj["status"] == {"replicas": 2} and obj["spec"]["replicas"] == 4
    table = cluster.kubectl("get", "ct", "-n", ns).stdout.splitlines()
    # Declared printer columns replace the default Age column, as upstream.
    assert table[0].split() == ["NAME", "SPEC", "REPLICAS"]
    assert table[1].split() == ["c", "*", "*", "*", "*", "*/5", "4"]
    assert "crontab.stable.example.com/c" in cluster.kubectl("get", "all", "-n", ns,
                                                             "-o", "name").stdout
    code, _ = call(cluster, "DELETE",
                   "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                   "crontabs.stable.example.com")
    assert code == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if call(cluster, "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                "crontabs.stable.example.com")[0] == 404:
            break
        time.sleep(0.1)
    assert call(cluster, "GET", base)[0] == 404


def test_discovery_documents(cluster: Cluster) -> None:
    _, apis = call(cluster, "GET", "/apis")
    names = [g["name"] for g in apis["groups"]]
    # the aggregator's own group first, then the built-ins by priority, as upstream
    assert names[:2] == ["apiregistration.k8s.io", "apps"] and "apiextensions.k8s.io" in names
    _, core = call(cluster, "GET", "/api/v1")
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["shortNames"] == ["po"] and pods["namespaced"]
    assert any(r["name"] == "pods/binding" for r in core["resources"])
    _, agg = call(cluster, "GET", "/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"})
    assert agg["kind"] == "APIGroupDiscoveryList"
    for path in ("/version", "/healthz", "/livez", "/openapi/v3", "/openapi/v2"):
        req = urllib.request.Request(cluster.url + path)
        with cluster.open(req, timeout=30) as resp:
            assert resp.status == 200


def test_eviction_respects_disruption_budgets(cluster: Cluster, ns: str) -> None:
    pods = f"/api/v1/namespaces/{ns}/pods"
    for name in ("a", "b"):
        code, pod = call(cluster, "POST", pods, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}})
        assert code == 201
        # a running, ready pod is what budgets protect (an unready one may go freely
        # while the budget is healthy)
        pod["status"] = {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
        assert call(cluster, "PUT", f"{pods}/{name}/status", pod)[0] == 200
    budgets = f"/apis/policy/v1/namespaces/{ns}/poddisruptionbudgets"
    code, pdb = call(cluster, "POST", budgets, {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}})
    assert code == 201
    pdb["status"] = {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1,
                     "expectedPods": 2, "observedGeneration": 1}
    assert call(cluster, "PUT", f"{budgets}/web/status", pdb)[0] == 200
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction"}
    code, _ = call(cluster, "POST", f"{pods}/a/eviction", {**eviction, "metadata": {"name": "a"}})
    assert code == 201
    assert call(cluster, "GET", f"{pods}/a")[0] == 404
    _, pdb = call(cluster, "GET", f"{budgets}/web")
    assert pdb["status"]["disruptionsAllowed"] == 0 and "a" in pdb["status"]["disruptedPods"]
    code, status = call(cluster, "POST", f"{pods}/b/eviction",
                        {**eviction, "metadata": {"name": "b"}})
    assert (code, status["reason"]) == (429, "TooManyRequests")
    assert status["details"]["causes"][0]["reason"] == "DisruptionBudget"
    assert call(cluster, "GET", f"{pods}/b")[0] == 200
