"""The PV binder and the local-path provisioner against a real in-process API server on
SQLite (which bootstraps the default `local-path` class), with the scheduler placing
pods on simulated nodes where a test needs a consumer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from kubelite.machinery import errors
from tests.test_controllers_replicaset import NS, events_of
from tests.loops import nodes_scheduler_and_manager
from tests.test_scheduler import eventually

Obj = dict[str, Any]
PV, PVC = "persistentvolumes", "persistentvolumeclaims"
VOLUME_LOOPS = ["persistentvolume-binder", "local-path-provisioner", "statefulset"]


@pytest.fixture
async def cluster(client: Client, tmp_path: Path) -> AsyncIterator[ControllerManager]:
    """Three simulated nodes, the scheduler, the two volume loops and the StatefulSet
    loop, local-path volumes in tmp_path/storage."""
    async with nodes_scheduler_and_manager(client, controllers=VOLUME_LOOPS,
                                           storage_dir=tmp_path / "storage") as manager:
        yield manager


def volume(name: str, size: str, *, klass: str = "manual", policy: str = "Retain",
           labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    return {"apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": labels or {}},
            "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                     "storageClassName": klass, "persistentVolumeReclaimPolicy": policy,
                     "hostPath": {"path": f"/srv/{name}"}, **spec}}


def claim(name: str, size: str = "1Gi", *, klass: str | None = "manual", **spec: Any) -> Obj:
    body: Obj = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}},
                 **spec}
    if klass is not None:
        body["storageClassName"] = klass
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": body}


async def phase_of(client: Client, resource: str, name: str, phase: str) -> Obj | None:
    try:
        obj = await client.get(resource, name, namespace=NS if resource == PVC else None)
    except errors.NotFound:
        return None  # not made yet
    return obj if (obj.get("status") or {}).get("phase") == phase else None


async def gone(client: Client, resource: str, name: str) -> bool:
    return not any(o["metadata"]["name"] == name
                   for o in (await client.list(resource, namespace=NS if resource == PVC else None))["items"])


async def test_a_claim_binds_the_smallest_matching_volume(
        client: Client, cluster: ControllerManager) -> None:
    for pv in (volume("big", "10Gi"), volume("small", "2Gi"), volume("tiny", "512Mi"),
               volume("other-class", "2Gi", klass="fast")):
        await client.create(PV, pv)
    await client.create(PVC, claim("data", "1Gi"), namespace=NS)
    bound = await eventually(lambda: phase_of(client, PVC, "data", "Bound"))
    assert bound["spec"]["volumeName"] == "small"
    assert bound["status"]["capacity"] == {"storage": "2Gi"}
    assert bound["status"]["accessModes"] == ["ReadWriteOnce"]
    assert bound["metadata"]["annotations"] == {"pv.kubernetes.io/bind-completed": "yes",
                                                "pv.kubernetes.io/bound-by-controller": "yes"}
    pv = await eventually(lambda: phase_of(client, PV, "small", "Bound"))
    assert (pv["spec"]["claimRef"]["name"], pv["spec"]["claimRef"]["uid"]) == (
        "data", bound["metadata"]["uid"])
    assert pv["metadata"]["annotations"] == {"pv.kubernetes.io/bound-by-controller": "yes"}
    for other in ("big", "tiny", "other-class"):
        assert await eventually(lambda: phase_of(client, PV, other, "Available"))


async def test_a_selector_and_a_prebound_volume_are_honoured(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(PV, volume("plain", "1Gi"))
    await client.create(PV, volume("gold", "5Gi", labels={"tier": "gold"}))
    await client.create(PV, volume("reserved", "1Gi", claimRef={"namespace": NS, "name": "mine"}))
    await client.create(PVC, claim("picky", selector={"matchLabels": {"tier": "gold"}}), namespace=NS)
    await client.create(PVC, claim("mine", klass="elsewhere"), namespace=NS)
    picky = await eventually(lambda: phase_of(client, PVC, "picky", "Bound"))
    mine = await eventually(lambda: phase_of(client, PVC, "mine", "Bound"))
    assert (picky["spec"]["volumeName"], mine["spec"]["volumeName"]) == ("gold", "reserved")
    reserved = await client.get(PV, "reserved")
    assert "pv.kubernetes.io/bound-by-controller" not in (reserved["metadata"].get("annotations") or {})


async def test_a_claim_waits_without_a_volume_then_binds_one_made_later(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(PVC, claim("later", klass=""), namespace=NS)
    assert await eventually(lambda: events_of(client, "later", "FailedBinding"))
    failed = (await events_of(client, "later", "FailedBinding"))[0]
    assert failed["message"] == ("no persistent volumes available for this claim and no "
                                 "storage class is set")
    assert (await client.get(PVC, "later", namespace=NS))["status"]["phase"] == "Pending"
    await client.create(PV, volume("fresh", "1Gi", klass=""))
    bound = await eventually(lambda: phase_of(client, PVC, "later", "Bound"))
    assert bound["spec"]["volumeName"] == "fresh"


async def test_retain_leaves_the_volume_released(client: Client, cluster: ControllerManager) -> None:
    await client.create(PV, volume("kept", "1Gi"))
    await client.create(PVC, claim("c"), namespace=NS)
    await eventually(lambda: phase_of(client, PV, "kept", "Bound"))
    await client.delete(PVC, "c", namespace=NS)
    released = await eventually(lambda: phase_of(client, PV, "kept", "Released"))
    assert released["spec"]["claimRef"]["name"] == "c"
    # a new claim of the same name does not get the released volume back: it is
    # synced, finds no volume, and asks for its class (which does not exist)
    await client.create(PVC, claim("c"), namespace=NS)
    failed = await eventually(lambda: events_of(client, "c", "ProvisioningFailed"))
    assert failed[0]["message"] == 'storageclass.storage.k8s.io "manual" not found'
    assert (await client.get(PV, "kept"))["status"]["phase"] == "Released"


async def test_delete_of_a_volume_no_provisioner_made_fails(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(PV, volume("static", "1Gi", policy="Delete"))
    await client.create(PVC, claim("c"), namespace=NS)
    await eventually(lambda: phase_of(client, PV, "static", "Bound"))
    await client.delete(PVC, "c", namespace=NS)
    failed = await eventually(lambda: phase_of(client, PV, "static", "Failed"))
    assert failed["status"]["message"] == ('error getting deleter volume plugin for volume "static": '
                                           "no deletable volume plugin matched")


async def test_a_claim_naming_a_volume_that_does_not_fit_is_told_why(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(PV, volume("small", "1Gi"))
    await client.create(PVC, claim("wants", "5Gi", volumeName="small"), namespace=NS)
    events = await eventually(lambda: events_of(client, "wants", "VolumeMismatch"))
    assert (events[0]["type"], events[0]["message"]) == ("Warning", "requested PV is too small")
    assert (await client.get(PVC, "wants", namespace=NS))["status"]["phase"] == "Pending"


async def test_a_bound_claim_whose_volume_is_deleted_is_lost(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(PV, volume("doomed", "1Gi"))
    await client.create(PVC, claim("c"), namespace=NS)
    await eventually(lambda: phase_of(client, PVC, "c", "Bound"))
    await client.delete(PV, "doomed")
    await eventually(lambda: phase_of(client, PVC, "c", "Lost"))
    lost = await eventually(lambda: events_of(client, "c", "ClaimLost"))
    assert lost[0]["message"] == "Bound claim has lost its PersistentVolume. Data on the volume is lost!"


async def test_a_local_path_claim_waits_for_its_first_consumer(
        client: Client, cluster: ControllerManager) -> None:
    created = await client.create(PVC, claim("idle", klass=None), namespace=NS)
    assert created["spec"]["storageClassName"] == "local-path"  # the default class
    events = await eventually(lambda: events_of(client, "idle", "WaitForFirstConsumer"))
    assert events[0]["message"] == "waiting for first consumer to be created before binding"
    assert (await client.get(PVC, "idle", namespace=NS))["status"]["phase"] == "Pending"
    assert (await client.list(PV))["items"] == []
    # a consumer that cannot be scheduled is named
    await client.create("pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nowhere"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}], "nodeSelector": {"no": "node"},
                 "volumes": [{"name": "v", "persistentVolumeClaim": {"claimName": "idle"}}]}},
        namespace=NS)
    # a claim is synced on its own changes and every 15 s, not on its pods' changes
    await client.patch(PVC, "idle", {"metadata": {"labels": {"poke": "sync"}}}, namespace=NS)
    waiting = await eventually(lambda: events_of(client, "idle", "WaitForPodScheduled"))
    assert waiting[0]["message"] == "waiting for pod nowhere to be scheduled"


async def test_a_pod_gets_a_local_path_volume_on_its_node_removed_with_its_claim(
        client: Client, cluster: ControllerManager, tmp_path: Path) -> None:
    await client.create(PVC, claim("www", "3Gi", klass=None), namespace=NS)
    await client.create("pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
        "spec": {"containers": [{"name": "app", "image": "nginx"}],
                 "volumes": [{"name": "www", "persistentVolumeClaim": {"claimName": "www"}}]}},
        namespace=NS)
    bound = await eventually(lambda: phase_of(client, PVC, "www", "Bound"))
    pod = await eventually(lambda: _scheduled(client, "web"))
    node = pod["spec"]["nodeName"]
    annotations = bound["metadata"]["annotations"]
    assert annotations["volume.kubernetes.io/selected-node"] == node
    assert annotations["volume.kubernetes.io/storage-provisioner"] == "rancher.io/local-path"
    assert annotations["volume.beta.kubernetes.io/storage-provisioner"] == "rancher.io/local-path"
    pv_name = bound["spec"]["volumeName"]
    assert pv_name == f"pvc-{bound['metadata']['uid']}"
    pv = await eventually(lambda: phase_of(client, PV, pv_name, "Bound"))
    directory = tmp_path / "storage" / f"{pv_name}_{NS}_www"
    assert pv["spec"]["hostPath"] == {"path": str(directory), "type": "DirectoryOrCreate"}
    assert pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"] == [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": [node]}]}]
    assert (pv["spec"]["capacity"], pv["spec"]["persistentVolumeReclaimPolicy"],
            pv["spec"]["storageClassName"]) == ({"storage": "3Gi"}, "Delete", "local-path")
    assert directory.is_dir()
    for reason in ("ExternalProvisioning", "Provisioning", "ProvisioningSucceeded"):
        assert await eventually(lambda: events_of(client, "www", reason)), reason

    await client.delete("pods", "web", namespace=NS, grace_period_seconds=0)
    await client.delete(PVC, "www", namespace=NS)
    assert await eventually(lambda: gone(client, PV, pv_name))
    assert not directory.exists()


async def test_a_statefulsets_claims_are_provisioned_where_its_pods_run(
        client: Client, cluster: ControllerManager, tmp_path: Path) -> None:
    template = {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "postgres"}]}}
    await client.create("statefulsets.apps", {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 2, "serviceName": "db", "podManagementPolicy": "Parallel",
                 "selector": {"matchLabels": {"app": "db"}}, "template": template,
                 "volumeClaimTemplates": [claim("data", klass=None)]}}, namespace=NS)
    for ordinal in (0, 1):
        bound = await eventually(lambda: phase_of(client, PVC, f"data-db-{ordinal}", "Bound"))
        pod = await eventually(lambda: _scheduled(client, f"db-{ordinal}"))
        pv = await client.get(PV, bound["spec"]["volumeName"])
        terms = pv["spec"]["nodeAffinity"]["required"]["nodeSelectorTerms"]
        assert terms[0]["matchExpressions"][0]["values"] == [pod["spec"]["nodeName"]]
        assert Path(pv["spec"]["hostPath"]["path"]).parent == tmp_path / "storage"


async def _scheduled(client: Client, name: str) -> Obj | None:
    try:
        pod = await client.get("pods", name, namespace=NS)
    except errors.NotFound:
        return None
    return pod if pod["spec"].get("nodeName") else None
