"""The client against a real `kubelite server` process, configured from its kubeconfig,
checked against the official `kubernetes` Python client where both can observe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kubelite.client.informer import Informer
from kubelite.client.rest import Client
from kubelite.machinery import errors
from tests.cluster import Cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("client-e2e"))
    c.start()
    yield c
    c.stop()


@pytest.fixture
async def client(cluster: Cluster) -> AsyncIterator[Client]:
    c = Client.from_kubeconfig(cluster.kubeconfig, field_manager="kubelite-test")
    yield c
    await c.close()


async def test_kubeconfig_client_writes_what_the_official_client_reads(
        client: Client, cluster: Cluster, tmp_path: Path) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    await client.create("configmaps", {"metadata": {"name": "shared", "namespace": "default",
                                                    "labels": {"from": "kubelite"}},
                                       "data": {"k": "v"}})
    api_client = kubernetes.config.new_client_from_config(config_file=cluster.kubeconfig)
    core = kubernetes.client.CoreV1Api(api_client)
    found = await asyncio.to_thread(core.list_namespaced_config_map, "default",
                                    label_selector="from=kubelite")
    assert [i.metadata.name for i in found.items] == ["shared"]
    # The official client raises ApiException(status=404) where ours raises NotFound.
    with pytest.raises(kubernetes.client.ApiException) as theirs:
        await asyncio.to_thread(core.read_namespaced_config_map, "absent", "default")
    with pytest.raises(errors.NotFound) as ours:
        await client.get("configmaps", "absent")
    assert theirs.value.status == ours.value.code == 404
    api_client.close()


async def test_informer_against_a_server_process(client: Client) -> None:
    informer = Informer(client, "configmaps", namespace="e2e")
    await client.create("namespaces", {"metadata": {"name": "e2e"}})
    seen: list[str] = []
    informer.add_event_handler(on_add=lambda o: seen.append(o["metadata"]["name"]))
    informer.start()
    try:
        assert await informer.wait_for_sync(10)
        await client.create("configmaps", {"metadata": {"name": "one", "namespace": "e2e"}})

        async def added() -> None:
            while "one" not in seen:
                await asyncio.sleep(0.01)
        await asyncio.wait_for(added(), 10)
        assert informer.lister.get("e2e", "one") is not None
        assert informer.use_watch_list  # kubelite serves watch-list
    finally:
        await informer.stop()
