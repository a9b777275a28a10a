"""The volume manager against a real API server that issues tokens: configMap, secret,
projected (the kube-api-access token volume), downwardAPI, emptyDir on tmpfs,
hostPath and persistent volumes set up on disk as upstream lays them out, and
updates followed by the re-sync."""

from __future__ import annotations

import asyncio
import base64
import os
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import pytest_asyncio

from kubelite.client.rest import Client
from kubelite.kubelet.parts import VolumeError
from kubelite.kubelet.volumes import VolumeManager, tmpfs

Obj = dict[str, Any]
WAIT = 10.0
ROOT = os.geteuid() == 0
pytestmark = pytest.mark.asyncio(loop_scope="module")  # one API server for the module

class Clock:
    """Wall time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture(loop_scope="module")
async def volumes(client: Client, tmp_path: Path, clock: Clock) -> AsyncIterator[VolumeManager]:
    manager = VolumeManager(client, tmp_path / "pods", "node-1", clock=clock)
    try:
        yield manager
    finally:
        for uid in manager.mounted_pods():
            await manager.unmount_pod(uid)


async def make_pod(client: Client, volumes: list[Obj], *, name: str = "web",
                   labels: dict[str, str] | None = None, **spec: Any) -> Obj:
    return await client.create("pods", {
        "metadata": {"name": name, "labels": labels or {"app": "web"},
                     "annotations": {"note": 'say "hi"\n'}},
        "spec": {"containers": [{"name": "app", "image": "busybox",
                                 "resources": {"limits": {"memory": "64Mi", "cpu": "250m"}}}],
                 "volumes": volumes, **spec}})


async def token_review(client: Client, token: str, audiences: list[str] | None = None) -> Obj:
    return await client.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", body={
        "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview",
        "spec": {"token": token, **({"audiences": audiences} if audiences else {})}})


def read(path: str | Path) -> str:
    return Path(path).read_text()


def mode(path: str | Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_config_map_keys_become_files_with_their_modes(
        client: Client, volumes: VolumeManager) -> None:
    await client.create("configmaps", {"metadata": {"name": "cfg"},
                                       "data": {"a.conf": "alpha", "b.conf": "beta"},
                                       "binaryData": {"blob": base64.b64encode(b"\0\1").decode()}})
    pod = await make_pod(client, [
        {"name": "all", "configMap": {"name": "cfg", "defaultMode": 0o600}},
        {"name": "some", "configMap": {"name": "cfg", "items": [
            {"key": "a.conf", "path": "conf/a"}, {"key": "b.conf", "path": "b", "mode": 0o400}]}}])
    paths = await volumes.mount_pod(pod)
    uid = pod["metadata"]["uid"]
    assert paths["all"] == str(volumes.pods_dir / uid / "volumes/kubernetes.io~configmap/all")
    names = sorted(os.listdir(paths["all"]))
    assert [n for n in names if not n.startswith("..")] == ["a.conf", "b.conf", "blob"]
    assert "..data" in names and len(names) == 5  # and one timestamped payload dir
    assert os.readlink(Path(paths["all"]) / "a.conf") == "..data/a.conf"
    assert (read(Path(paths["all"]) / "a.conf"), mode(Path(paths["all"]) / "a.conf")) == \
        ("alpha", 0o600)
    assert Path(paths["all"], "blob").read_bytes() == b"\0\1"
    assert (read(Path(paths["some"]) / "conf/a"), mode(Path(paths["some"]) / "conf/a")) == \
        ("alpha", 0o644)
    assert mode(Path(paths["some"]) / "b") == 0o400
    assert not Path(paths["some"], "a.conf").exists()


async def test_secret_files_and_missing_objects(client: Client, volumes: VolumeManager) -> None:
    await client.create("secrets", {"metadata": {"name": "creds"},
                                    "data": {"password": base64.b64encode(b"s3cret").decode()}})
    pod = await make_pod(client, [
        {"name": "creds", "secret": {"secretName": "creds", "defaultMode": 0o440}},
        {"name": "maybe", "secret": {"secretName": "absent", "optional": True}},
        {"name": "maybe-cm", "configMap": {"name": "absent", "optional": True}}])
    paths = await volumes.mount_pod(pod)
    assert (read(Path(paths["creds"]) / "password"), mode(Path(paths["creds"]) / "password")) \
        == ("s3cret", 0o440)
    assert [n for n in os.listdir(paths["maybe"]) if not n.startswith("..")] == []
    assert os.listdir(paths["maybe-cm"]) != [] and not Path(paths["maybe-cm"], "x").exists()
    if ROOT:  # secrets never touch the disk
        assert tmpfs.is_mount_point(Path(paths["creds"]))


@pytest.mark.parametrize("volume,message", [
    ({"configMap": {"name": "nope"}}, 'configmap "nope" not found'),
    ({"secret": {"secretName": "nope"}}, 'secret "nope" not found'),
    ({"configMap": {"name": "cfg", "items": [{"key": "missing", "path": "m"}]}},
     "configmap references non-existent config key: missing"),
    ({"downwardAPI": {"items": [{"path": "x", "fieldRef": {"fieldPath": "spec.bogus"}}]}},
     "unsupported fieldPath: spec.bogus"),
    ({"persistentVolumeClaim": {"claimName": "nope"}},
     'persistentvolumeclaim "nope" not found'),
    ({"hostPath": {"path": "/proc/self/nope", "type": "Directory"}},
     "hostPath type check failed: /proc/self/nope is not a directory"),
    ({"gitRepo": {"repository": "x"}}, "kubelite does not mount gitRepo volumes"),
], ids=["configmap-missing", "secret-missing", "configmap-key-missing", "bad-field",
        "claim-missing", "hostpath-not-dir", "unsupported-plugin"])
async def test_failed_mount_says_why_as_upstream(client: Client, volumes: VolumeManager,
                                                 volume: Obj, message: str) -> None:
    await client.create("configmaps", {"metadata": {"name": "cfg"}, "data": {"k": "v"}})
    pod = await make_pod(client, [{"name": "v", **volume}])
    with pytest.raises(VolumeError) as caught:
        await volumes.mount_pod(pod)
    assert str(caught.value) == f'MountVolume.SetUp failed for volume "v" : {message}'


async def test_one_failing_volume_does_not_hold_up_the_others(
        client: Client, volumes: VolumeManager) -> None:
    pod = await make_pod(client, [{"name": "late", "configMap": {"name": "late"}},
                                  {"name": "work", "emptyDir": {}}])
    with pytest.raises(VolumeError, match='volume "late" : configmap "late" not found'):
        await volumes.mount_pod(pod)
    work = volumes.pods_dir / pod["metadata"]["uid"] / "volumes/kubernetes.io~empty-dir/work"
    assert work.is_dir()
    await client.create("configmaps", {"metadata": {"name": "late"}, "data": {"k": "v"}})
    paths = await volumes.mount_pod(pod)  # the pod worker tries again
    assert read(Path(paths["late"]) / "k") == "v" and paths["work"] == str(work)


async def test_resync_follows_object_updates(client: Client, volumes: VolumeManager) -> None:
    await client.create("configmaps", {"metadata": {"name": "cfg"}, "data": {"k": "one"}})
    pod = await make_pod(client, [{"name": "cfg", "configMap": {"name": "cfg"}}])
    paths = await volumes.mount_pod(pod)
    old_target = os.readlink(Path(paths["cfg"]) / "..data")
    await client.patch("configmaps", "cfg", {"data": {"k": "two", "new": "n"}})
    await volumes.resync()
    assert read(Path(paths["cfg"]) / "k") == "two"
    assert read(Path(paths["cfg"]) / "new") == "n"
    assert os.readlink(Path(paths["cfg"]) / "..data") != old_target
    assert not Path(paths["cfg"], old_target).exists()  # the old payload is gone
    await client.patch("configmaps", "cfg", {"data": {"new": None}})
    await volumes.resync()
    assert not os.path.lexists(Path(paths["cfg"]) / "new")


async def test_run_loop_resyncs_on_its_period(client: Client, tmp_path: Path) -> None:
    manager = VolumeManager(client, tmp_path / "pods", "node-1", resync_period=0.02)
    await client.create("secrets", {"metadata": {"name": "s"}, "stringData": {"k": "one"}})
    pod = await make_pod(client, [{"name": "s", "secret": {"secretName": "s"}}])
    paths = await manager.mount_pod(pod)
    loop = asyncio.create_task(manager.run())
    try:
        await client.patch("secrets", "s", {"stringData": {"k": "two"}})

        async def updated() -> None:
            while read(Path(paths["s"]) / "k") != "two":
                await asyncio.sleep(0.01)
        await asyncio.wait_for(updated(), WAIT)
    finally:
        loop.cancel()
        await manager.unmount_pod(pod["metadata"]["uid"])


async def test_kube_api_access_volume_holds_a_bound_token_ca_and_namespace(
        client: Client, volumes: VolumeManager, clock: Clock) -> None:
    pod = await make_pod(client, [{"name": "vault", "projected": {"sources": [
        {"serviceAccountToken": {"audience": "vault", "path": "vault-token",
                                 "expirationSeconds": 600}}]}}])
    # the ServiceAccount admission plugin added the volume and its mount
    name = next(v["name"] for v in pod["spec"]["volumes"]
                if v["name"].startswith("kube-api-access-"))
    paths = await volumes.mount_pod(pod)
    mounts = volumes.container_mounts(pod, pod["spec"]["containers"][0], paths)
    assert [(m.host_path, m.readonly) for m in mounts
            if m.container_path == "/var/run/secrets/kubernetes.io/serviceaccount"] == \
        [(paths[name], True)]
    access = Path(paths[name])
    assert (read(access / "ca.crt"), read(access / "namespace")) == \
        ("PEM", pod["metadata"]["namespace"])
    assert mode(access / "token") == 0o644
    token = read(access / "token")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["kubernetes.io"]["pod"] == {"name": "web", "uid": pod["metadata"]["uid"]}
    review = await token_review(client, token)
    assert review["status"]["authenticated"] is True
    assert review["status"]["user"]["username"] == \
        f"system:serviceaccount:{pod['metadata']['namespace']}:default"
    vault = read(Path(paths["vault"]) / "vault-token")
    review = await token_review(client, vault, ["vault"])
    assert (review["status"]["authenticated"], review["status"]["audiences"]) == (True, ["vault"])
    vault_claims = jwt.decode(vault, options={"verify_signature": False})
    assert vault_claims["exp"] - vault_claims["iat"] == 600

    await volumes.resync()  # fresh: the same token
    assert read(access / "token") == token
    clock.offset = 0.81 * 3607  # past 80% of the life the pod asked for: renewed
    await volumes.resync()
    renewed = read(access / "token")
    assert renewed != token
    assert jwt.decode(renewed, options={"verify_signature": False})["iat"] >= claims["iat"]


@pytest.mark.skipif(not ROOT, reason="giving a file to another user needs root")
async def test_a_token_belongs_to_the_user_the_pod_runs_as(client: Client,
                                                           volumes: VolumeManager) -> None:
    pod = await make_pod(client, [], securityContext={"runAsUser": 1234, "fsGroup": 5678})
    name = next(v["name"] for v in pod["spec"]["volumes"])
    access = Path((await volumes.mount_pod(pod))[name])
    token = os.stat(access / "token")
    assert (token.st_uid, token.st_gid, stat.S_IMODE(token.st_mode)) == (1234, 5678, 0o640)
    ca = os.stat(access / "ca.crt")
    assert (ca.st_gid, stat.S_IMODE(ca.st_mode)) == (5678, 0o644)


async def test_run_loop_renews_a_token_when_it_comes_due(client: Client, tmp_path: Path,
                                                        clock: Clock) -> None:
    """The loop wakes for a token's renewal, not only on its (here hour-long) period."""
    manager = VolumeManager(client, tmp_path / "pods", "node-1", resync_period=3600, clock=clock)
    pod = await make_pod(client, [])
    name = next(v["name"] for v in pod["spec"]["volumes"])  # the kube-api-access volume
    token_file = Path((await manager.mount_pod(pod))[name]) / "token"
    first = read(token_file)
    due = manager.tokens.next_refresh()
    assert due is not None and due - clock() > 0.5 * 3600  # not due for a while
    loop = asyncio.create_task(manager.run())
    try:
        clock.offset = due - clock() + 1  # the token comes due

        async def renewed() -> None:
            while read(token_file) == first:
                await asyncio.sleep(0.01)
        # the loop sleeps until its old deadline unless woken: a new pod's mount wakes it
        await manager.mount_pod(await make_pod(client, [], name="other"))
        await asyncio.wait_for(renewed(), WAIT)
    finally:
        loop.cancel()
        for uid in manager.mounted_pods():
            await manager.unmount_pod(uid)


async def test_downward_api_files_follow_the_pod(client: Client, volumes: VolumeManager) -> None:
    await client.create("nodes", {"metadata": {"name": "node-1"}})
    await client.update_status("nodes", {"metadata": {"name": "node-1"}, "status": {
        "allocatable": {"cpu": "4", "memory": "8Gi"}}})
    pod = await make_pod(client, [{"name": "info", "downwardAPI": {"items": [
        {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
        {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
        {"path": "app", "fieldRef": {"fieldPath": "metadata.labels['app']"}},
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o400},
        {"path": "mem", "resourceFieldRef": {"containerName": "app",
                                             "resource": "limits.memory", "divisor": "1Mi"}},
        {"path": "cpu", "resourceFieldRef": {"containerName": "app", "resource": "limits.cpu",
                                             "divisor": "1m"}},
        {"path": "cores", "resourceFieldRef": {"containerName": "app",
                                                   "resource": "limits.cpu"}}]}}],
        labels={"app": "web", "tier": "front"})
    paths = await volumes.mount_pod(pod)
    info = Path(paths["info"])
    assert read(info / "labels") == 'app="web"\ntier="front"'
    assert read(info / "annotations") == 'note="say \\"hi\\"\\n"'
    assert (read(info / "app"), read(info / "name"), mode(info / "name")) == ("web", "web", 0o400)
    assert (read(info / "mem"), read(info / "cpu"), read(info / "cores")) == ("64", "250", "1")
    pod["metadata"]["labels"] = {"app": "api"}
    await volumes.mount_pod(pod)
    assert (read(info / "labels"), read(info / "app")) == ('app="api"', "api")


@pytest.mark.skipif(not ROOT, reason="mounting a tmpfs needs root")
async def test_memory_empty_dir_is_a_sized_tmpfs_gone_with_the_pod(
        client: Client, volumes: VolumeManager) -> None:
    pod = await make_pod(client, [
        {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}},
        {"name": "disk", "emptyDir": {}}])
    paths = await volumes.mount_pod(pod)
    scratch = Path(paths["scratch"])
    assert tmpfs.is_mount_point(scratch)
    fs = os.statvfs(scratch)
    assert fs.f_blocks * fs.f_frsize == 8 << 20
    assert mode(paths["disk"]) == 0o777 and not tmpfs.is_mount_point(Path(paths["disk"]))
    assert await volumes.mount_pod(pod) == paths  # idempotent: no second mount
    assert len(tmpfs.mount_points_under(scratch)) == 1
    await volumes.unmount_pod(pod["metadata"]["uid"])
    assert not tmpfs.mount_points_under(volumes.pods_dir)
    assert not (volumes.pods_dir / pod["metadata"]["uid"]).exists()


async def test_claims_follow_their_bound_volume(client: Client, volumes: VolumeManager,
                                                tmp_path: Path) -> None:
    data = tmp_path / "pv-data"
    data.mkdir()
    for name, source in (("pv-host", {"hostPath": {"path": str(data)}}),
                         ("pv-nfs", {"nfs": {"server": "nas", "path": "/x"}})):
        await client.create("persistentvolumes", {"metadata": {"name": name}, "spec": {
            "capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"], **source}})
    for claim, pv in (("data", "pv-host"), ("nfs", "pv-nfs"), ("pending", "")):
        created = await client.create("persistentvolumeclaims", {
            "metadata": {"name": claim}, "spec": {
                "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
                **({"volumeName": pv} if pv else {})}})
        if pv:
            created["status"] = {"phase": "Bound"}
            await client.update_status("persistentvolumeclaims", created)
    pod = await make_pod(client, [{"name": "data", "persistentVolumeClaim": {"claimName": "data"}}])
    assert (await volumes.mount_pod(pod))["data"] == str(data)
    for claim, message in (
            ("nfs", "persistentvolume pv-nfs is a nfs volume; kubelite mounts only hostPath "
                    "and local persistent volumes"),
            ("pending", "error processing PVC {namespace}/pending: PVC is not bound")):
        other = await make_pod(client, [{"name": "v", "persistentVolumeClaim": {
            "claimName": claim}}], name=f"pod-{claim}")
        with pytest.raises(VolumeError) as caught:
            await volumes.mount_pod(other)
        assert str(caught.value) == 'MountVolume.SetUp failed for volume "v" : ' + \
            message.format(namespace=client.namespace)


def _mount_table(mounts: Any) -> dict[str, tuple[str, bool, str]]:
    return {m.container_path: (m.host_path, m.readonly, m.propagation) for m in mounts}


async def test_container_mounts_map_volume_mounts(client: Client, volumes: VolumeManager,
                                                  tmp_path: Path) -> None:
    await client.create("configmaps", {"metadata": {"name": "cfg"}, "data": {"k": "v"}})
    host = tmp_path / "host"
    host.mkdir()
    pod = await make_pod(client, [{"name": "cfg", "configMap": {"name": "cfg"}},
                                  {"name": "work", "emptyDir": {}},
                                  {"name": "host", "hostPath": {"path": str(host)}}])
    paths = await volumes.mount_pod(pod)
    container = {"name": "app", "env": [{"name": "POD", "valueFrom": {"fieldRef": {
        "fieldPath": "metadata.name"}}}, {"name": "DIR", "value": "logs-$(POD)"}],
        "terminationMessagePath": "/dev/termination-log",
        "volumeMounts": [
            {"name": "cfg", "mountPath": "/etc/cfg"},
            {"name": "cfg", "mountPath": "/etc/k", "subPath": "k"},
            {"name": "work", "mountPath": "/work", "readOnly": True},
            {"name": "work", "mountPath": "/logs", "subPathExpr": "$(DIR)/app"},
            {"name": "host", "mountPath": "/host", "mountPropagation": "HostToContainer"}]}
    table = _mount_table(volumes.container_mounts(pod, container, paths))
    work = paths["work"]
    assert table["/etc/cfg"] == (paths["cfg"], True, "PROPAGATION_PRIVATE")
    assert table["/etc/k"] == (f"{paths['cfg']}/k", True, "PROPAGATION_PRIVATE")
    assert table["/work"] == (work, True, "PROPAGATION_PRIVATE")
    assert table["/logs"] == (f"{work}/logs-web/app", False, "PROPAGATION_PRIVATE")
    assert Path(work, "logs-web/app").is_dir()
    assert table["/host"] == (str(host), False, "PROPAGATION_HOST_TO_CONTAINER")
    log_file, read_only, _ = table["/dev/termination-log"]
    assert Path(log_file).parent == volumes.pods_dir / pod["metadata"]["uid"] / "containers/app"
    assert (mode(log_file), read_only, Path(log_file).stat().st_size) == (0o666, False, 0)
