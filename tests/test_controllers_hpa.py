"""The horizontalpodautoscaling loop in process: simulated nodes report their pods'
annotated usage, the metrics server serves it as metrics.k8s.io, and the loop scales
Deployments and custom resources through /scale."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.settings import LoopSettings
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.kubelet.simulated.usage import USAGE
from kubelite.metrics import MetricsServer
from kubelite.scheduler.scheduler import KubeScheduler
from tests.test_scheduler import running

T = TypeVar("T")
HPA = "horizontalpodautoscalers.autoscaling"


@contextlib.asynccontextmanager
async def autoscaling_cluster(server: APIServer, client: Client) -> AsyncIterator[None]:
    """Three simulated nodes, the scheduler, a metrics server scraping every 0.1 s and
    the controller manager syncing HPAs every 0.2 s."""
    sim = SimulatedNodes(client, NodeConfig(count=3, cpu="8", memory="16Gi"))
    metrics = MetricsServer(client, resolution=0.1)
    await server.add_aggregated_api(metrics.api)
    sched = KubeScheduler(client, seed=1)
    manager = ControllerManager(client, settings=LoopSettings(hpa_sync_period=0.2))
    async with running(sim.run()), running(metrics.run()), running(sched.run()), \
            running(manager.run()):
        async with asyncio.timeout(15):
            await sim.registered.wait()
            await manager.leading.wait()
        yield


async def until(check: Callable[[], Awaitable[T | None]], timeout: float = 30) -> T:
    """`check()`'s first answer that is not None (or falsy), asked every 0.05 s."""
    async with asyncio.timeout(timeout):
        while True:
            answer = await check()
            if answer:
                return answer
            await asyncio.sleep(0.05)


def deployment(name: str, cpu_usage: str, request: str | None = "100m",
               kind: str = "Deployment") -> dict[str, Any]:
    resources = {"requests": {"cpu": request}} if request else {}
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}, "annotations": {
                         USAGE: json.dumps({"cpu": cpu_usage})}},
                                  "spec": {"containers": [{"name": "app", "image": "nginx",
                                                           "resources": resources}]}}}}


def hpa(name: str, target: dict[str, Any], *, kind: str = "Deployment",
        api_version: str = "apps/v1", maximum: int = 4,
        behavior: dict[str, Any] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": api_version, "kind": kind, "name": name},
        "minReplicas": 1, "maxReplicas": maximum,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": target}}]}
    if behavior is not None:
        spec["behavior"] = behavior
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name}, "spec": spec}


def conditions(obj: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"])
            for c in (obj.get("status") or {}).get("conditions") or ()}


async def replicas_of(client: Client, resource: str, name: str, wanted: int) -> bool:
    obj = await client.get(resource, name, namespace="default")
    return obj["spec"].get("replicas") == wanted


async def events_of(client: Client, name: str) -> list[tuple[str, str]]:
    listed = await client.list("events", namespace="default",
                               field_selector=f"involvedObject.name={name}")
    return [(e["reason"], e["message"]) for e in listed["items"]]


async def test_a_deployment_scales_up_under_load_and_back_down(server: APIServer,
                                                              client: Client) -> None:
    async with autoscaling_cluster(server, client):
        await client.create("deployments.apps", deployment("web", "90m"), namespace="default")
        await client.create(HPA, hpa("web", {"type": "Utilization", "averageUtilization": 50},
                                     behavior={"scaleDown": {"stabilizationWindowSeconds": 0}}),
                            namespace="default")
        await until(lambda: replicas_of(client, "deployments.apps", "web", 4))
        scaled = await until(lambda: _status_with(client, "web", desired=4, current=4))
        assert scaled["currentMetrics"][0]["resource"]["name"] == "cpu"
        assert scaled["currentMetrics"][0]["resource"]["current"]["averageUtilization"] >= 45
        assert scaled["lastScaleTime"]
        found = conditions({"status": scaled})
        assert found["AbleToScale"][0] == "True"
        assert found["ScalingActive"] == ("True", "ValidMetricFound")
        assert "ScalingLimited" in found
        # events are recorded in the background: the scale can land before its event
        await until(lambda: rescaled(client, "web", "cpu resource utilization (percentage "
                                                    "of request) above target"))

        pods = await client.list("pods", namespace="default", label_selector="app=web")
        for pod in pods["items"]:
            await client.patch("pods", pod["metadata"]["name"], {"metadata": {"annotations": {
                USAGE: json.dumps({"cpu": "5m"})}}}, namespace="default")
        await until(lambda: replicas_of(client, "deployments.apps", "web", 1))
        await until(lambda: rescaled(client, "web", "All metrics below target"))


async def rescaled(client: Client, name: str, reason: str) -> bool:
    """Whether a SuccessfulRescale event of `name` gives `reason`."""
    return any(r == "SuccessfulRescale" and reason in m for r, m in await events_of(client, name))


async def _status_with(client: Client, name: str, *, desired: int, current: int
                       ) -> dict[str, Any] | None:
    status = (await client.get(HPA, name, namespace="default")).get("status") or {}
    if status.get("desiredReplicas") == desired and status.get("currentReplicas") == current:
        return status
    return None


@pytest.mark.parametrize("kind, resource", [
    ("Deployment", "deployments.apps"), ("ReplicaSet", "replicasets.apps"),
    ("StatefulSet", "statefulsets.apps")])
async def test_average_value_target_scales_to_the_usage_per_pod(
        server: APIServer, client: Client, kind: str, resource: str) -> None:
    async with autoscaling_cluster(server, client):
        await client.create(resource, deployment("avg", "300m", request=None, kind=kind),
                            namespace="default")
        await client.create(HPA, hpa("avg", {"type": "AverageValue", "averageValue": "100m"},
                                     kind=kind, maximum=3), namespace="default")
        await until(lambda: replicas_of(client, resource, "avg", 3))
        status = await until(lambda: _status_with(client, "avg", desired=3, current=3))
        assert status["currentMetrics"][0]["resource"]["current"]["averageValue"] == "300m"


async def test_pods_without_requests_leave_scaling_inactive(server: APIServer,
                                                            client: Client) -> None:
    async with autoscaling_cluster(server, client):
        await client.create("deployments.apps", deployment("noreq", "90m", request=None),
                            namespace="default")
        await client.create(HPA, hpa("noreq", {"type": "Utilization", "averageUtilization": 50}),
                            namespace="default")

        async def inactive() -> dict[str, Any] | None:
            obj = await client.get(HPA, "noreq", namespace="default")
            found = conditions(obj)
            return obj if found.get("ScalingActive", ("",))[0] == "False" and \
                "missing request" in str(obj["status"]["conditions"]) else None

        obj = await until(inactive)
        active = next(c for c in obj["status"]["conditions"] if c["type"] == "ScalingActive")
        assert active["reason"] == "FailedGetResourceMetric"
        assert active["message"] == (
            "the HPA was unable to compute the replica count: failed to get cpu utilization: "
            "missing request for cpu in container app of Pod "
            f"{active['message'].rsplit(' ', 1)[1]}")
        reasons = {r for r, _ in await events_of(client, "noreq")}
        assert {"FailedGetResourceMetric", "FailedComputeMetricsReplicas"} <= reasons
        assert (await client.get("deployments.apps", "noreq", namespace="default"))[
            "spec"]["replicas"] == 1


async def test_a_missing_target_cannot_be_scaled(server: APIServer, client: Client) -> None:
    async with autoscaling_cluster(server, client):
        await client.create(HPA, hpa("ghost", {"type": "Utilization", "averageUtilization": 50}),
                            namespace="default")

        async def failed() -> dict[str, Any] | None:
            obj = await client.get(HPA, "ghost", namespace="default")
            return obj if conditions(obj).get("AbleToScale") == ("False", "FailedGetScale") \
                else None

        obj = await until(failed)
        able = next(c for c in obj["status"]["conditions"] if c["type"] == "AbleToScale")
        assert able["message"].startswith(
            "the HPA controller was unable to get the target's current scale: ")


CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "workers.example.com"},
    "spec": {"group": "example.com", "scope": "Namespaced",
             "names": {"plural": "workers", "singular": "worker", "kind": "Worker"},
             "versions": [{"name": "v1", "served": True, "storage": True,
                           "subresources": {"status": {}, "scale": {
                               "specReplicasPath": ".spec.replicas",
                               "statusReplicasPath": ".status.replicas",
                               "labelSelectorPath": ".status.selector"}},
                           "schema": {"openAPIV3Schema": {
                               "type": "object",
                               "x-kubernetes-preserve-unknown-fields": True}}}]},
}


async def test_a_custom_resource_scales_through_its_scale_subresource(
        server: APIServer, client: Client) -> None:
    async with autoscaling_cluster(server, client):
        await client.create("customresourcedefinitions.apiextensions.k8s.io", CRD)

        async def served() -> bool:
            try:
                await client.request("GET", "/apis/example.com/v1/namespaces/default/workers")
                return True
            except Exception:
                return False

        await until(served)
        resource = Resource("example.com", "v1", "workers", True, "Worker")
        created = await client.create(resource, {
            "apiVersion": "example.com/v1", "kind": "Worker", "metadata": {"name": "w"},
            "spec": {"replicas": 2}}, namespace="default")
        created["status"] = {"replicas": 2, "selector": "app=w"}
        await client.update_status(resource, created, namespace="default")
        for i in range(2):
            await client.create("pods", {
                "metadata": {"name": f"w-{i}", "labels": {"app": "w"},
                             "annotations": {USAGE: json.dumps({"cpu": "400m"})}},
                "spec": {"containers": [{"name": "app", "image": "nginx", "resources": {
                    "requests": {"cpu": "200m"}}}]}}, namespace="default")
        await client.create(HPA, hpa("w", {"type": "Utilization", "averageUtilization": 100},
                                     kind="Worker", api_version="example.com/v1", maximum=6),
                            namespace="default")

        async def scaled() -> bool:
            obj = await client.get(resource, "w", namespace="default")
            return obj["spec"]["replicas"] == 4

        await until(scaled)
