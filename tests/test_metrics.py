"""metrics.k8s.io in process: simulated nodes report their pods' annotated usage at their
kubelet endpoint, the metrics server scrapes it and the API server serves it as an
aggregated API, with discovery and an APIService."""

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
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.kubelet.simulated.usage import NODE_BASE_CPU, NODE_BASE_MEMORY, USAGE
from kubelite.machinery.quantity import parse_quantity
from kubelite.metrics import MetricsServer
from tests.test_scheduler import running

POD_METRICS = Resource("metrics.k8s.io", "v1beta1", "pods", True, "PodMetrics")
NODE_METRICS = Resource("metrics.k8s.io", "v1beta1", "nodes", False, "NodeMetrics")
T = TypeVar("T")


@contextlib.asynccontextmanager
async def metrics_cluster(server: APIServer, client: Client, nodes: int = 2,
                          in_process: bool = False) -> AsyncIterator[MetricsServer]:
    """Simulated nodes and a metrics server scraping them every 0.1 s, over loopback
    HTTP or (`in_process`) through the endpoint's local getter."""
    sim = SimulatedNodes(client, NodeConfig(count=nodes))
    local = [sim.endpoint.local_get] if in_process and sim.endpoint else []
    metrics = MetricsServer(client, resolution=0.1, local=local)
    await server.add_aggregated_api(metrics.api)
    async with running(sim.run()), running(metrics.run()):
        async with asyncio.timeout(15):
            await sim.registered.wait()
        yield metrics


async def eventually(metrics: MetricsServer, check: Callable[[], Awaitable[T | None]],
                     timeout: float = 15) -> T:
    """`check()`'s first answer that is not None, asked after each scrape round."""
    async with asyncio.timeout(timeout):
        while True:
            answer = await check()
            if answer is not None:
                return answer
            await metrics.scraper.wait_rounds(1)


def pod(name: str, node: str, usage: dict[str, Any] | None, labels: dict[str, str],
        containers: tuple[str, ...] = ("app",)) -> dict[str, Any]:
    annotations = {USAGE: json.dumps(usage)} if usage is not None else {}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": labels, "annotations": annotations},
            "spec": {"nodeName": node,
                     "containers": [{"name": c, "image": "nginx"} for c in containers]}}


def cpu(text: str) -> int:
    return parse_quantity(text).scaled_value(-9)


async def pod_metrics(client: Client, name: str, namespace: str = "default"
                      ) -> dict[str, Any] | None:
    items = (await client.list(POD_METRICS, namespace=namespace))["items"]
    return next((i for i in items if i["metadata"]["name"] == name), None)


@pytest.mark.parametrize("in_process", [False, True], ids=["http", "in-process"])
async def test_pods_and_nodes_report_their_annotated_usage(server: APIServer, client: Client,
                                                           in_process: bool) -> None:
    async with metrics_cluster(server, client, in_process=in_process) as metrics:
        await client.create("pods", pod("web", "sim-0", {"cpu": "250m", "memory": "64Mi"},
                                        {"app": "web"}), namespace="default")
        await client.create("pods", pod("two", "sim-0", {"a": {"cpu": "100m"},
                                                         "b": {"memory": "1Mi"}},
                                        {"app": "two"}, containers=("a", "b")),
                            namespace="default")
        web = await eventually(metrics, lambda: pod_metrics(client, "web"))
        assert web["kind"] == "PodMetrics" and web["metadata"]["labels"] == {"app": "web"}
        assert [c["name"] for c in web["containers"]] == ["app"]
        usage = web["containers"][0]["usage"]
        assert usage["memory"] == "64Mi"
        assert cpu(usage["cpu"]) == pytest.approx(250_000_000, rel=0.01)
        assert web["window"].endswith("s") and web["timestamp"].endswith("Z")
        two = await eventually(metrics, lambda: pod_metrics(client, "two"))
        by_name = {c["name"]: c["usage"] for c in two["containers"]}
        assert by_name["b"]["memory"] == "1Mi" and cpu(by_name["b"]["cpu"]) == 0
        assert cpu(by_name["a"]["cpu"]) == pytest.approx(100_000_000, rel=0.01)

        node = await client.get(NODE_METRICS, "sim-0")
        assert node["metadata"]["labels"]["kubernetes.io/hostname"] == "sim-0"
        assert parse_quantity(node["usage"]["memory"]).value() == \
            NODE_BASE_MEMORY + (65 << 20)
        assert cpu(node["usage"]["cpu"]) == pytest.approx(NODE_BASE_CPU + 350_000_000,
                                                          rel=0.01)
        idle = await client.get(NODE_METRICS, "sim-1")
        assert parse_quantity(idle["usage"]["memory"]).value() == NODE_BASE_MEMORY


async def test_lists_select_by_label_and_namespace(server: APIServer, client: Client) -> None:
    async with metrics_cluster(server, client) as metrics:
        await client.create("namespaces", {"metadata": {"name": "other"}})
        await client.create("pods", pod("a", "sim-0", {"cpu": "10m"}, {"tier": "front"}),
                            namespace="default")
        await client.create("pods", pod("b", "sim-1", {"cpu": "10m"}, {"tier": "back"}),
                            namespace="other")

        async def both() -> list[str] | None:
            items = (await client.list(POD_METRICS))["items"]
            names = [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in items]
            return names if len(names) == 2 else None

        assert await eventually(metrics, both) == ["default/a", "other/b"]
        front = await client.list(POD_METRICS, label_selector="tier=front")
        assert [i["metadata"]["name"] for i in front["items"]] == ["a"]
        other = await client.list(POD_METRICS, namespace="other")
        assert [i["metadata"]["name"] for i in other["items"]] == ["b"]
        named = await client.list(POD_METRICS, field_selector="metadata.name=b")
        assert [i["metadata"]["name"] for i in named["items"]] == ["b"]
        nodes = await client.list(NODE_METRICS,
                                  label_selector="kubernetes.io/hostname=sim-1")
        assert [i["metadata"]["name"] for i in nodes["items"]] == ["sim-1"]
        assert nodes["kind"] == "NodeMetricsList"


async def test_changed_usage_shows_after_the_next_scrapes(server: APIServer,
                                                          client: Client) -> None:
    async with metrics_cluster(server, client, nodes=1) as metrics:
        await client.create("pods", pod("web", "sim-0", {"cpu": "100m"}, {}),
                            namespace="default")
        await eventually(metrics, lambda: pod_metrics(client, "web"))
        await client.patch("pods", "web", {"metadata": {"annotations": {
            USAGE: json.dumps({"cpu": "900m", "memory": "1Gi"})}}}, namespace="default",
            type="merge")

        async def raised() -> dict[str, Any] | None:
            found = await pod_metrics(client, "web")
            usage = found["containers"][0]["usage"] if found else {}
            return usage if usage.get("memory") == "1Gi" and \
                cpu(usage["cpu"]) == pytest.approx(900_000_000, rel=0.01) else None

        await eventually(metrics, raised)


async def test_discovery_apiservice_and_errors(server: APIServer, client: Client) -> None:
    async def call(method: str, path: str, params: dict[str, str] | None = None
                   ) -> tuple[int, Any]:
        resp = await client.transport.request(method, path, params=params,
                                              headers={"Accept": "application/json"})
        return resp.status, json.loads(resp.body)

    async with metrics_cluster(server, client, nodes=1):
        status, groups = await call("GET", "/apis")
        names = [g["name"] for g in groups["groups"]]
        assert names[0] == "apiregistration.k8s.io" and names[-1] == "metrics.k8s.io"
        status, resources = await call("GET", "/apis/metrics.k8s.io/v1beta1")
        assert status == 200
        assert {(r["name"], r["kind"], r["namespaced"], tuple(r["verbs"]))
                for r in resources["resources"]} == {
            ("nodes", "NodeMetrics", False, ("get", "list")),
            ("pods", "PodMetrics", True, ("get", "list"))}
        service = await client.get("apiservices.apiregistration.k8s.io",
                                   "v1beta1.metrics.k8s.io")
        assert service["spec"]["group"] == "metrics.k8s.io"
        assert [(c["type"], c["status"], c["reason"])
                for c in service["status"]["conditions"]] == [("Available", "True", "Local")]

        status, body = await call("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/default/"
                                         "pods/missing")
        assert status == 404
        assert body["message"] == 'podmetrics.metrics.k8s.io "default/missing" not found'
        status, body = await call("DELETE", "/apis/metrics.k8s.io/v1beta1/nodes/sim-0")
        assert status == 405 and body["kind"] == "Status"
        status, body = await call("GET", "/apis/metrics.k8s.io/v1beta1/nodes",
                                  params={"labelSelector": "a in (b"})
        assert status == 400 and body["reason"] == "BadRequest"
        status, body = await call("GET", "/apis/metrics.k8s.io/v1beta1/pods",
                                  params={"fieldSelector": "spec.nodeName=x"})
        assert status == 400 and "field label not supported" in body["message"]
        status, _ = await call("GET", "/apis/metrics.k8s.io/v1beta1/widgets")
        assert status == 404


async def test_the_local_getter_answers_only_its_own_urls(server: APIServer,
                                                         client: Client) -> None:
    sim = SimulatedNodes(client, NodeConfig(count=2))
    async with running(sim.run()):
        async with asyncio.timeout(15):
            await sim.registered.wait()
        assert sim.endpoint is not None
        base = f"http://{sim.endpoint.host}:{sim.endpoint.port}/nodes"
        text = sim.endpoint.local_get(f"{base}/sim-1/metrics/resource")
        assert text is not None and "node_cpu_usage_seconds_total" in text
        for other in (f"{base}/sim-2/metrics/resource", f"{base}/sim-1/healthz",
                      "http://10.0.0.1:10250/nodes/sim-1/metrics/resource",
                      "https://198.18.0.2:10250/metrics/resource"):
            assert sim.endpoint.local_get(other) is None, other
        node = await client.get("nodes", "sim-1")
        assert node["metadata"]["annotations"]["kubelite.io/kubelet-url"] == f"{base}/sim-1"
