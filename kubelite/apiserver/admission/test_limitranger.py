"""LimitRanger through the in-process API server: defaults land on the stored pod,
bounds refuse with 403 and upstream's message, and claims are bounded too."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
NS = "/api/v1/namespaces/default"


async def make_limit_range(call: Any, *items: Obj) -> None:
    status, body = await call("POST", f"{NS}/limitranges", body={
        "apiVersion": "v1", "kind": "LimitRange", "metadata": {"name": "limits"},
        "spec": {"limits": list(items)}})
    assert status == 201, body


def pod(name: str, resources: Obj | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "web", "image": "nginx",
                                     "resources": resources or {}}]}}


async def test_a_new_pod_gets_the_namespaces_defaults(call: Any) -> None:
    await make_limit_range(call, {"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"},
                                  "defaultRequest": {"cpu": "100m", "memory": "128Mi"}})
    status, created = await call("POST", f"{NS}/pods", body=pod("p"))
    assert status == 201, created
    assert created["spec"]["containers"][0]["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"}}
    assert created["metadata"]["annotations"]["kubernetes.io/limit-ranger"] == (
        "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit "
        "for container web")
    assert created["status"]["qosClass"] == "Burstable"


async def test_a_containers_own_limit_is_its_request_before_the_default(call: Any) -> None:
    await make_limit_range(call, {"type": "Container", "defaultRequest": {"cpu": "100m"}})
    status, created = await call("POST", f"{NS}/pods", body=pod("p", {"limits": {"cpu": "1"}}))
    assert status == 201, created
    assert created["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1"}


async def test_a_pod_under_the_minimum_is_forbidden(call: Any) -> None:
    await make_limit_range(call, {"type": "Container", "min": {"cpu": "100m", "memory": "64Mi"}})
    status, body = await call("POST", f"{NS}/pods", body=pod("x", {
        "requests": {"cpu": "50m", "memory": "32Mi"}}))
    assert status == 403
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods "x" is forbidden: [minimum cpu usage per Container is 100m, but request is '
        "50m, minimum memory usage per Container is 64Mi, but request is 32Mi]")


async def test_a_claim_over_the_maximum_is_forbidden(call: Any) -> None:
    await make_limit_range(call, {"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}})
    claim = {"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}}
    status, body = await call("POST", f"{NS}/persistentvolumeclaims", body=claim)
    assert status == 403
    assert body["message"] == ('persistentvolumeclaims "data" is forbidden: maximum storage '
                               "usage per PersistentVolumeClaim is 1Gi, but request is 2Gi")


async def test_a_namespace_without_limit_ranges_is_left_alone(call: Any) -> None:
    status, created = await call("POST", f"{NS}/pods", body=pod("p"))
    assert status == 201
    assert "annotations" not in created["metadata"]
    assert created["spec"]["containers"][0]["resources"] == {}


async def test_a_limit_range_applies_to_the_next_pod_after_pods_without_one(call: Any) -> None:
    assert (await call("POST", f"{NS}/pods", body=pod("before")))[0] == 201
    await make_limit_range(call, {"type": "Container", "default": {"cpu": "300m"}})
    status, created = await call("POST", f"{NS}/pods", body=pod("after"))
    assert status == 201, created
    assert created["spec"]["containers"][0]["resources"]["limits"] == {"cpu": "300m"}
