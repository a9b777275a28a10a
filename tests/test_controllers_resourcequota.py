"""The resourcequota loop against the real in-process API server: status.hard follows
spec.hard, status.used is recounted from the namespace's objects, and goes back down
when objects are deleted or pods finish; the admission's charges and the loop's counts
agree. The end-to-end path (a Deployment stopped by a quota) runs every loop, the
scheduler and simulated nodes."""

from __future__ import annotations

import functools
from typing import Any

from kubelite.client.rest import Client
from kubelite.controllers.context import LoopContext
from kubelite.controllers.resourcequota import ResourceQuotaLoop
from tests.loops import nodes_scheduler_and_manager, run_loops
from tests.test_scheduler import eventually

Obj = dict[str, Any]
NS = "default"


def quota(name: str, hard: dict[str, str], **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": name},
            "spec": {"hard": hard, **spec}}


def pod(name: str, cpu: str = "500m", **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx", "resources": {
                "requests": {"cpu": cpu, "memory": "64Mi"},
                "limits": {"cpu": cpu, "memory": "64Mi"}}}], **spec}}


def loop(ctx: LoopContext, resync_period: float = 300.0) -> ResourceQuotaLoop:
    return ResourceQuotaLoop(ctx, resync_period=resync_period)


async def status_is(client: Client, name: str, used: dict[str, str]) -> Obj | None:
    current = await client.get("resourcequotas", name, namespace=NS)
    status = current.get("status") or {}
    return current if status.get("used") == used else None


async def test_a_new_quota_counts_what_the_namespace_already_has(client: Client) -> None:
    for name in ("a", "b"):
        await client.create("configmaps", {"metadata": {"name": name}}, namespace=NS)
    await client.create("pods", pod("p1"), namespace=NS)
    async with run_loops(client, loop):
        await client.create("resourcequotas", quota("q", {
            "configmaps": "10", "count/configmaps": "10", "pods": "5", "requests.cpu": "2",
            "limits.memory": "1Gi"}), namespace=NS)
        written = await eventually(lambda: status_is(client, "q", {
            "configmaps": "2", "count/configmaps": "2", "pods": "1", "requests.cpu": "500m",
            "limits.memory": "64Mi"}))
    assert written["status"]["hard"] == {"configmaps": "10", "count/configmaps": "10",
                                         "limits.memory": "1Gi", "pods": "5",
                                         "requests.cpu": "2"}


async def test_deleting_objects_brings_usage_down(client: Client) -> None:
    async with run_loops(client, loop):
        await client.create("resourcequotas", quota("q", {"pods": "5", "secrets": "5"}),
                            namespace=NS)
        await eventually(lambda: status_is(client, "q", {"pods": "0", "secrets": "0"}))
        await client.create("pods", pod("p1"), namespace=NS)
        await client.create("secrets", {"metadata": {"name": "s"}}, namespace=NS)
        await eventually(lambda: status_is(client, "q", {"pods": "1", "secrets": "1"}))
        await client.delete("pods", "p1", namespace=NS, grace_period_seconds=0)
        await client.delete("secrets", "s", namespace=NS)
        await eventually(lambda: status_is(client, "q", {"pods": "0", "secrets": "0"}))


async def test_a_finished_pod_stops_counting(client: Client) -> None:
    async with run_loops(client, loop):
        await client.create("resourcequotas", quota("q", {"pods": "5", "count/pods": "5"}),
                            namespace=NS)
        await eventually(lambda: status_is(client, "q", {"pods": "0", "count/pods": "0"}))
        created = await client.create("pods", pod("done"), namespace=NS)
        created["status"] = {"phase": "Succeeded"}
        await client.update_status("pods", created, namespace=NS)
        # count/pods counts every stored pod; pods only the live ones.
        await eventually(lambda: status_is(client, "q", {"pods": "0", "count/pods": "1"}))


async def test_changing_what_is_limited_recounts(client: Client) -> None:
    await client.create("services", {"metadata": {"name": "web"},
                                     "spec": {"type": "NodePort", "ports": [{"port": 80}]}},
                        namespace=NS)
    async with run_loops(client, loop):
        created = await client.create("resourcequotas", quota("q", {"services": "3"}),
                                      namespace=NS)
        # default also holds the API server's own `kubernetes` Service.
        await eventually(lambda: status_is(client, "q", {"services": "2"}))
        current = await client.get("resourcequotas", "q", namespace=NS)
        current["spec"]["hard"] = {"services.nodeports": "2"}
        await client.update("resourcequotas", current, namespace=NS)
        written = await eventually(lambda: status_is(client, "q", {"services.nodeports": "1"}))
    assert written["status"]["hard"] == {"services.nodeports": "2"}
    assert created["metadata"]["name"] == "q"


async def test_the_resync_repairs_a_charge_for_a_write_that_never_happened(
        client: Client) -> None:
    async with run_loops(client, functools.partial(loop, resync_period=0.05)):
        await client.create("resourcequotas", quota("q", {"configmaps": "3"}), namespace=NS)
        current = await eventually(lambda: status_is(client, "q", {"configmaps": "0"}))
        current["status"]["used"] = {"configmaps": "2"}  # as if two creates failed late
        await client.update_status("resourcequotas", current, namespace=NS)
        await eventually(lambda: status_is(client, "q", {"configmaps": "0"}))


async def test_counts_by_group_watch_their_resource_on_first_use(client: Client) -> None:
    async with run_loops(client, loop):
        await client.create("resourcequotas", quota("q", {"count/jobs.batch": "2"}),
                            namespace=NS)
        await eventually(lambda: status_is(client, "q", {"count/jobs.batch": "0"}))
        job = {"metadata": {"name": "j"}, "spec": {"template": {"spec": {
            "restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
        await client.create("jobs.batch", job, namespace=NS)
        await eventually(lambda: status_is(client, "q", {"count/jobs.batch": "1"}))
        await client.delete("jobs.batch", "j", namespace=NS)
        await eventually(lambda: status_is(client, "q", {"count/jobs.batch": "0"}))


async def test_a_deployment_over_quota_reports_failed_creates(client: Client) -> None:
    async with nodes_scheduler_and_manager(client):
        await client.create("resourcequotas", quota("compute-quota", {"requests.cpu": "1",
                                                                      "requests.memory": "1Gi"}),
                            namespace=NS)
        await eventually(lambda: status_is(client, "compute-quota", {
            "requests.cpu": "0", "requests.memory": "0"}))
        template = pod("x")
        template["metadata"] = {"labels": {"app": "web"}}
        await client.create("deployments.apps", {"metadata": {"name": "web"}, "spec": {
            "replicas": 3, "selector": {"matchLabels": {"app": "web"}},
            "template": template}}, namespace=NS)

        async def failed_create() -> Obj | None:
            events = (await client.list("events", namespace=NS))["items"]
            return next((e for e in events if e.get("reason") == "FailedCreate"), None)
        event = await eventually(failed_create)
        assert event["involvedObject"]["kind"] == "ReplicaSet"
        assert "exceeded quota: compute-quota, requested: requests.cpu=500m, used: " \
               "requests.cpu=1, limited: requests.cpu=1" in event["message"]
        await eventually(lambda: status_is(client, "compute-quota", {
            "requests.cpu": "1", "requests.memory": "128Mi"}))
        pods = (await client.list("pods", namespace=NS))["items"]
        assert len(pods) == 2
        # A pod deleted gives its share back, and the ReplicaSet's retry fits.
        await client.delete("pods", pods[0]["metadata"]["name"], namespace=NS)

        async def replaced() -> bool:
            live = (await client.list("pods", namespace=NS))["items"]
            names = {p["metadata"]["name"] for p in live}
            return len(live) == 2 and pods[0]["metadata"]["name"] not in names
        await eventually(replaced)
