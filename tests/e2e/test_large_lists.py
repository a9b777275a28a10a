"""Lists larger than one streamed chunk, read by kubectl and the official Python client.

A LIST of the stored version is written a chunk at a time (kubelite/apiserver/
list_stream.py); these lists of 300 pods (about 0.5 MB) take several chunks, whole and
by pages, with and without selectors.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from kubernetes import client, config

from tests.cluster import Cluster

PODS = 300


def pod(i: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"p-{i:03d}", "labels": {"app": "big", "shard": str(i % 4)},
                         "annotations": {"note": "x" * 1000}},
            "spec": {"containers": [{"name": "c", "image": "registry.local/app:1.0"}]}}


@pytest.fixture(scope="module")
def ns(cluster: Cluster) -> str:
    name = f"big-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)

    def create(i: int) -> None:
        req = urllib.request.Request(f"{cluster.url}/api/v1/namespaces/{name}/pods",
                                     data=json.dumps(pod(i)).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with cluster.open(req, timeout=30) as resp:
            assert resp.status == 201

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(create, range(PODS)))
    return name


@pytest.fixture(scope="module")
def core(cluster: Cluster) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=cluster.kubeconfig))


ALL = [f"p-{i:03d}" for i in range(PODS)]


def raw_list(cluster: Cluster, path: str) -> tuple[bytes, dict[str, str]]:
    req = urllib.request.Request(cluster.url + path, headers={"Accept-Encoding": "gzip"})
    with cluster.open(req, timeout=30) as resp:
        return resp.read(), dict(resp.headers)


def test_list_spans_several_chunks_and_is_plain_json(cluster: Cluster, ns: str) -> None:
    body, headers = raw_list(cluster, f"/api/v1/namespaces/{ns}/pods")
    assert len(body) > 2 * 256 * 1024
    assert int(headers["Content-Length"]) == len(body)
    assert "Content-Encoding" not in headers  # gzip is offered, identity is answered
    listed = json.loads(body)
    assert (listed["kind"], listed["apiVersion"]) == ("PodList", "v1")
    assert [p["metadata"]["name"] for p in listed["items"]] == ALL


@pytest.mark.parametrize("version", ["1.32", "1.35"])
@pytest.mark.parametrize("chunk_size", ["500", "45"])
def test_kubectl_reads_every_pod_whole_and_by_pages(cluster: Cluster, ns: str, version: str,
                                                    chunk_size: str) -> None:
    out = cluster.kubectl("get", "pods", "-n", ns, "-o", "json", f"--chunk-size={chunk_size}",
                          version=version).stdout
    items = json.loads(out)["items"]
    assert [p["metadata"]["name"] for p in items] == ALL
    assert {p["metadata"]["annotations"]["note"] for p in items} == {"x" * 1000}


def test_kubectl_table_and_selector(cluster: Cluster, ns: str) -> None:
    table = cluster.kubectl("get", "pods", "-n", ns).stdout.splitlines()
    assert table[0].split()[:3] == ["NAME", "READY", "STATUS"]
    assert [row.split()[0] for row in table[1:]] == ALL
    names = cluster.kubectl("get", "pods", "-n", ns, "-l", "shard=1", "-o", "name",
                            "--chunk-size=20").stdout.split()
    assert names == [f"pod/{n}" for i, n in enumerate(ALL) if i % 4 == 1]


def test_python_client_lists_whole_by_pages_and_selected(core: client.CoreV1Api,
                                                         ns: str) -> None:
    whole = core.list_namespaced_pod(ns)
    assert [p.metadata.name for p in whole.items] == ALL
    assert whole.items[7].spec.containers[0].image == "registry.local/app:1.0"
    seen: list[str] = []
    token = None
    snapshot = None
    while True:
        page = core.list_namespaced_pod(ns, limit=64, _continue=token)
        # every page is of the first page's snapshot (other writes, such as the
        # controllers' lease renewals, may have moved the store on since `whole`)
        snapshot = snapshot or page.metadata.resource_version
        assert page.metadata.resource_version == snapshot
        seen += [p.metadata.name for p in page.items]
        token = page.metadata._continue
        if not token:
            break
        assert page.metadata.remaining_item_count == PODS - len(seen)
    assert seen == ALL
    selected = core.list_namespaced_pod(ns, label_selector="shard in (0,2)",
                                        field_selector="metadata.name!=p-000")
    assert [p.metadata.name for p in selected.items] == [
        n for i, n in enumerate(ALL) if i % 4 in (0, 2) and i]


def test_python_client_gets_a_status_for_a_bad_list(core: client.CoreV1Api, ns: str) -> None:
    with pytest.raises(client.ApiException) as err:
        core.list_namespaced_pod(ns, label_selector="shard in (")
    status = json.loads(err.value.body)
    assert (err.value.status, status["kind"], status["reason"]) == (400, "Status",
                                                                     "BadRequest")
