"""ServiceAccounts in pods, end to end in one process: an API server running the
ServiceAccount admission plugin, and a controller manager whose serviceaccount and
root-ca-cert-publisher loops give every namespace its `default` account and its
kube-root-ca.crt ConfigMap; with simulated nodes and the scheduler, a Deployment's pods
run with the token volume."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from conftest import started_server
from kubelite.apiserver.admission.service_account import TOKEN_MOUNT_PATH, token_volume_source
from kubelite.apiserver.app import APIServer
from kubelite.client.rest import Client
from kubelite.controllers.context import LoopContext
from kubelite.controllers.informers import SharedInformers
from kubelite.controllers.manager import ControllerManager
from kubelite.controllers.rootcacertpublisher import (
    DESCRIPTION, DESCRIPTION_ANNOTATION, RootCACertPublisherLoop)
from kubelite.controllers.settings import LoopSettings
from kubelite.kubelet.simulated import NodeConfig, SimulatedNodes
from kubelite.machinery import errors
from kubelite.scheduler.scheduler import KubeScheduler
from tests.certificates import make_ca_pem
from tests.test_scheduler import eventually, running

Obj = dict[str, Any]
CA = make_ca_pem()
LOOPS = ["serviceaccount", "root-ca-cert-publisher", "deployment", "replicaset"]


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[APIServer]:
    async with started_server(tmp_path, service_account_admission=True) as srv:
        yield srv


@pytest.fixture
async def cluster(client: Client) -> AsyncIterator[ControllerManager]:
    sim = SimulatedNodes(client, NodeConfig(count=1))
    sched = KubeScheduler(client, seed=1)
    manager = ControllerManager(client, controllers=LOOPS,
                                settings=LoopSettings(root_ca_pem=CA))
    async with running(sim.run()), running(sched.run()), running(manager.run()):
        async with asyncio.timeout(15):
            await manager.leading.wait()
            await sim.registered.wait()
            await sched.leading.wait()
        yield manager


async def namespace(client: Client, name: str) -> None:
    await client.create("namespaces", {"metadata": {"name": name}})


def pod(name: str, **spec: Any) -> Obj:
    return {"metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], **spec}}


async def got(client: Client, resource: str, name: str, namespace: str) -> Obj | None:
    try:
        return await client.get(resource, name, namespace=namespace)
    except errors.NotFound:
        return None


async def test_a_new_namespace_gets_its_account_and_ca_bundle(
        client: Client, cluster: ControllerManager) -> None:
    await namespace(client, "fresh")
    account = await eventually(lambda: got(client, "serviceaccounts", "default", "fresh"))
    assert account["metadata"]["name"] == "default"
    bundle = await eventually(lambda: got(client, "configmaps", "kube-root-ca.crt", "fresh"))
    assert bundle["data"] == {"ca.crt": CA}
    assert bundle["metadata"]["annotations"] == {DESCRIPTION_ANNOTATION: DESCRIPTION}


async def test_the_ca_bundle_comes_back_when_deleted_or_changed(
        client: Client, cluster: ControllerManager) -> None:
    await namespace(client, "tamper")
    bundle = await eventually(lambda: got(client, "configmaps", "kube-root-ca.crt", "tamper"))
    changed = copy.deepcopy(bundle)
    changed["data"] = {"ca.crt": "not the CA", "extra": "x"}
    changed["metadata"]["annotations"] = {"team": "a"}
    await client.update("configmaps", changed, namespace="tamper")

    async def put_back() -> Obj | None:
        now = await got(client, "configmaps", "kube-root-ca.crt", "tamper")
        return now if now and now["data"] == {"ca.crt": CA} else None
    fixed = await eventually(put_back)
    assert fixed["metadata"]["annotations"] == {"team": "a", DESCRIPTION_ANNOTATION: DESCRIPTION}
    await client.delete("configmaps", "kube-root-ca.crt", namespace="tamper")
    again = await eventually(put_back)
    assert again["metadata"]["uid"] != fixed["metadata"]["uid"]


async def test_a_pod_gets_the_token_volume_in_every_container(
        client: Client, cluster: ControllerManager) -> None:
    await namespace(client, "apps")  # the pod waits for the namespace's default account
    made = await client.create("pods", pod("p", initContainers=[{"name": "i", "image": "busybox"}]),
                               namespace="apps")
    spec = made["spec"]
    assert spec["serviceAccountName"] == "default"
    [volume] = spec["volumes"]
    assert volume["name"].startswith("kube-api-access-")
    assert volume["projected"] == token_volume_source()
    mount = {"name": volume["name"], "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}
    assert spec["initContainers"][0]["volumeMounts"] == [mount]
    assert spec["containers"][0]["volumeMounts"] == [mount]


async def test_automount_false_is_honoured(client: Client, cluster: ControllerManager) -> None:
    await namespace(client, "quiet")
    await client.create("serviceaccounts", {"metadata": {"name": "robot"},
                                            "automountServiceAccountToken": False},
                        namespace="quiet")
    by_pod = await client.create("pods", pod("a", automountServiceAccountToken=False),
                                 namespace="quiet")
    by_account = await client.create("pods", pod("b", serviceAccountName="robot"),
                                     namespace="quiet")
    pod_overrides = await client.create(
        "pods", pod("c", serviceAccountName="robot", automountServiceAccountToken=True),
        namespace="quiet")
    assert "volumes" not in by_pod["spec"] and "volumes" not in by_account["spec"]
    assert "volumeMounts" not in by_account["spec"]["containers"][0]
    assert pod_overrides["spec"]["volumes"][0]["name"].startswith("kube-api-access-")


async def test_a_pod_naming_a_missing_account_is_refused(
        client: Client, cluster: ControllerManager) -> None:
    await namespace(client, "strict")
    with pytest.raises(errors.Forbidden) as refused:
        await client.create("pods", pod("p", serviceAccountName="ghost"), namespace="strict")
    assert refused.value.message == ('pods "p" is forbidden: error looking up service account '
                                     'strict/ghost: serviceaccount "ghost" not found')


async def test_a_deployments_pods_run_with_the_token_volume(
        client: Client, cluster: ControllerManager) -> None:
    await namespace(client, "web")
    await client.create("deployments", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}},
        namespace="web")

    async def running_pods() -> list[Obj] | None:
        pods = (await client.list("pods", namespace="web"))["items"]
        ok = [p for p in pods if (p.get("status") or {}).get("phase") == "Running"]
        return ok if len(ok) == 2 else None
    for running_pod in await eventually(running_pods):
        [volume] = running_pod["spec"]["volumes"]
        assert volume["projected"] == token_volume_source()
        assert running_pod["spec"]["containers"][0]["volumeMounts"][0]["mountPath"] \
            == TOKEN_MOUNT_PATH


async def test_without_a_ca_bundle_the_publisher_does_nothing(client: Client) -> None:
    ctx = LoopContext(client, SharedInformers(client))
    loop = RootCACertPublisherLoop(ctx)
    assert ctx.informers.resources() == []  # watches nothing
    await asyncio.wait_for(loop.run(), 10)  # and returns at once
