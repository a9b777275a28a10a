"""ResourceQuota admission through the in-process API server: refusals carry
upstream's message and 403, admitted writes are charged to status.used, and
concurrent creates cannot both take the last unit."""

from __future__ import annotations

import asyncio
from typing import Any

from kubelite.client.rest import Client

Obj = dict[str, Any]
NS = "/api/v1/namespaces/default"


def pod(name: str, cpu: str | None = "1", memory: str | None = "64Mi", **spec: Any) -> Obj:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    resources = {"requests": requests, "limits": dict(requests)} if requests else {}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx",
                                     "resources": resources}], **spec}}


async def make_quota(call: Any, name: str, hard: dict[str, str], *,
                     used: dict[str, str] | None = None, **spec: Any) -> Obj:
    """A quota whose status is as the resourcequota loop would write it (no loop runs
    in these tests): hard from spec, used as given or zero."""
    status, created = await call("POST", f"{NS}/resourcequotas", body={
        "apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name},
        "spec": {"hard": hard, **spec}})
    assert status == 201, created
    created["status"] = {"hard": hard, "used": used or {k: "0" for k in hard}}
    status, written = await call("PUT", f"{NS}/resourcequotas/{name}/status", body=created)
    assert status == 200, written
    return written


async def used(call: Any, name: str) -> dict[str, str]:
    _, quota = await call("GET", f"{NS}/resourcequotas/{name}")
    return quota["status"]["used"]


async def test_a_pod_within_quota_is_charged(call: Any) -> None:
    await make_quota(call, "compute-quota", {"requests.cpu": "2", "pods": "3"})
    status, body = await call("POST", f"{NS}/pods", body=pod("a"))
    assert status == 201, body
    assert await used(call, "compute-quota") == {"pods": "1", "requests.cpu": "1"}


async def test_a_pod_over_quota_is_forbidden_with_upstreams_message(call: Any) -> None:
    await make_quota(call, "compute-quota", {"requests.cpu": "2"}, used={"requests.cpu": "1"})
    status, body = await call("POST", f"{NS}/pods", body=pod("big", cpu="2"))
    assert status == 403
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'pods "big" is forbidden: exceeded quota: compute-quota, requested: requests.cpu=2, '
        "used: requests.cpu=1, limited: requests.cpu=2")
    assert await used(call, "compute-quota") == {"requests.cpu": "1"}


async def test_a_quota_on_cpu_requires_pods_to_state_it(call: Any) -> None:
    await make_quota(call, "compute-quota", {"requests.cpu": "2", "limits.cpu": "4"})
    status, body = await call("POST", f"{NS}/pods", body=pod("bare", cpu=None, memory=None))
    assert status == 403
    assert body["message"] == ('pods "bare" is forbidden: failed quota: compute-quota: must '
                               "specify limits.cpu for: c; requests.cpu for: c")


async def test_a_quota_without_usage_yet_refuses_what_it_limits(call: Any) -> None:
    status, _ = await call("POST", f"{NS}/resourcequotas", body={
        "metadata": {"name": "fresh"}, "spec": {"hard": {"configmaps": "1"}}})
    _, quota = await call("GET", f"{NS}/resourcequotas/fresh")
    quota["status"] = {"hard": {"configmaps": "1"}}
    await call("PUT", f"{NS}/resourcequotas/fresh/status", body=quota)
    status, body = await call("POST", f"{NS}/configmaps", body={"metadata": {"name": "cm"}})
    assert status == 403
    assert body["message"] == ('configmaps "cm" is forbidden: status unknown for quota: fresh, '
                               "resources: configmaps")


async def test_object_counts_by_group_and_legacy_name(call: Any) -> None:
    await make_quota(call, "counts", {"count/deployments.apps": "1", "configmaps": "1"})
    deployment = {"metadata": {"name": "d1"}, "spec": {
        "selector": {"matchLabels": {"app": "d"}},
        "template": {"metadata": {"labels": {"app": "d"}},
                     "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    apps = "/apis/apps/v1/namespaces/default/deployments"
    assert (await call("POST", apps, body=deployment))[0] == 201
    deployment["metadata"]["name"] = "d2"
    status, body = await call("POST", apps, body=deployment)
    assert status == 403
    assert body["message"] == (
        'deployments.apps "d2" is forbidden: exceeded quota: counts, requested: '
        "count/deployments.apps=1, used: count/deployments.apps=1, "
        "limited: count/deployments.apps=1")
    assert (await call("POST", f"{NS}/configmaps", body={"metadata": {"name": "a"}}))[0] == 201
    status, body = await call("POST", f"{NS}/configmaps", body={"metadata": {"name": "b"}})
    assert status == 403 and "exceeded quota: counts, requested: configmaps=1" in body["message"]


async def test_a_scoped_quota_charges_only_pods_in_its_scope(call: Any) -> None:
    await make_quota(call, "best-effort", {"pods": "1"}, scopes=["BestEffort"])
    assert (await call("POST", f"{NS}/pods", body=pod("sized")))[0] == 201
    assert await used(call, "best-effort") == {"pods": "0"}
    assert (await call("POST", f"{NS}/pods", body=pod("free1", cpu=None, memory=None)))[0] == 201
    status, body = await call("POST", f"{NS}/pods", body=pod("free2", cpu=None, memory=None))
    assert status == 403 and "exceeded quota: best-effort" in body["message"]


async def test_a_dry_run_is_checked_but_not_charged(call: Any) -> None:
    await make_quota(call, "compute-quota", {"requests.cpu": "2"})
    status, _ = await call("POST", f"{NS}/pods", body=pod("dry"), params={"dryRun": "All"})
    assert status == 201
    assert await used(call, "compute-quota") == {"requests.cpu": "0"}


async def test_a_service_turned_nodeport_is_charged_its_ports(call: Any) -> None:
    await make_quota(call, "svc", {"services.nodeports": "1", "services": "5"})
    svc = {"metadata": {"name": "web"}, "spec": {"ports": [{"name": "a", "port": 80},
                                                        {"name": "b", "port": 81}]}}
    status, created = await call("POST", f"{NS}/services", body=svc)
    assert status == 201
    created["spec"]["type"] = "NodePort"
    status, body = await call("PUT", f"{NS}/services/web", body=created)
    assert status == 403
    assert "requested: services.nodeports=2, used: services.nodeports=0" in body["message"]


async def test_concurrent_creates_never_pass_the_limit(call: Any, client: Client) -> None:
    await make_quota(call, "few", {"pods": "3"})
    results = await asyncio.gather(*(call("POST", f"{NS}/pods", body=pod(f"p{i}"))
                                     for i in range(10)))
    assert sorted(status for status, _ in results) == [201] * 3 + [403] * 7
    assert await used(call, "few") == {"pods": "3"}
    pods = await client.list("pods", namespace="default")
    assert len(pods["items"]) == 3


async def test_a_quota_applies_to_the_next_write_after_writes_without_one(call: Any) -> None:
    assert (await call("POST", f"{NS}/configmaps", body={"metadata": {"name": "a"}}))[0] == 201
    await make_quota(call, "cms", {"configmaps": "1"}, used={"configmaps": "1"})
    status, body = await call("POST", f"{NS}/configmaps", body={"metadata": {"name": "b"}})
    assert status == 403, body
    assert "exceeded quota: cms, requested: configmaps=1" in body["message"]
