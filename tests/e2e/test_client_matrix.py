"""The client matrix: Kubernetes client libraries, each used the way its own
documentation shows, against one real kubelite server.

- the official `kubernetes` client at the oldest (32.0.0) and newest (37.0.3) versions
  for Kubernetes 1.32 and later: the oldest lives in a virtualenv of its own
  (.tools/venvs/kubernetes-32, built by scripts/install-test-tools), so both run the
  same script, tests/e2e/clients/official_client.py, in a subprocess;
- `kubernetes_asyncio`, `lightkube` and `kr8s`, in-process;
- a `kopf` operator (tests/e2e/clients/kopf_operator.py) run by `kopf run`.

Every test asserts what upstream kube-apiserver answers, whatever kubelite does today.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kr8s
import pytest
from kr8s.objects import ConfigMap as Kr8sConfigMap
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes_asyncio import client as async_client
from kubernetes_asyncio import config as async_config
from kubernetes_asyncio import watch as async_watch
from lightkube import ApiError, Client, KubeConfig
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Namespace

from tests.cluster import ROOT, Cluster

CLIENTS = Path(__file__).parent / "clients"
VENVS = ROOT / ".tools" / "venvs"
# client version -> the python whose site-packages hold it
OFFICIAL_CLIENTS = {
    "32.0.0": VENVS / "kubernetes-32" / "bin" / "python",
    "37.0.3": Path(sys.executable),
}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30) -> Any:
    """Poll `check` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# --- the official client, oldest and newest -------------------------------------------

@pytest.fixture(scope="module")
def official_client(cluster: Cluster) -> Callable[[str], dict[str, Any]]:
    """Runs official_client.py once per client version and hands out its results."""
    runs: dict[str, dict[str, Any]] = {}

    def run(version: str) -> dict[str, Any]:
        if version not in runs:
            python = OFFICIAL_CLIENTS[version]
            if not python.exists():
                raise FileNotFoundError(f"{python} is missing: run scripts/install-test-tools")
            done = subprocess.run(
                [str(python), str(CLIENTS / "official_client.py"), cluster.kubeconfig,
                 unique(f"official-{version.split('.')[0]}")],
                capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            runs[version] = json.loads(done.stdout)
            assert runs[version]["version"] == version
        return runs[version]
    return run


def check_result(run: dict[str, Any], check: str) -> Any:
    outcome = run[check]
    assert "error" not in outcome, outcome.get("error")
    return outcome["result"]


@pytest.mark.parametrize("version", OFFICIAL_CLIENTS)
def test_official_client_crud(official_client: Callable[[str], dict[str, Any]],
                              version: str) -> None:
    assert check_result(official_client(version), "crud") == {
        "created_uid": True,
        "replaced_newer": True,
        "patched": {"a": "2", "b": "3"},
        "listed": ["crud"],
        "read": {"a": "2", "b": "3"},
        "deleted_kind": "Status",  # a ConfigMap store answers DELETE with a Status
        "after_delete": 404,
    }


@pytest.mark.parametrize("version", OFFICIAL_CLIENTS)
def test_official_client_watch_resumes_after_server_timeout(
        official_client: Callable[[str], dict[str, Any]], version: str) -> None:
    """`Watch().stream(..., timeout_seconds=1)` ends when the server ends the watch; a
    second stream from the last event's resourceVersion sees exactly what came after.
    Clients up to 35.x send `?watch=True`, which upstream takes as true."""
    result = check_result(official_client(version), "watch_resume")
    assert result["first"] == [["ADDED", "w1"]]
    assert result["second"] == [["ADDED", "w2"], ["MODIFIED", "w1"], ["DELETED", "w2"]]
    assert result["watch_resource_version"] == result["last_event_resource_version"]
    assert result["watch_resource_version"] is not None


@pytest.mark.parametrize("version", OFFICIAL_CLIENTS)
def test_official_dynamic_client(official_client: Callable[[str], dict[str, Any]],
                                 version: str) -> None:
    assert check_result(official_client(version), "dynamic_client") == {
        "got": {"a": "1"},
        "patched": {"a": "1", "b": "2"},
        "replaced": {"c": "3"},
        "listed": ["dyn"],
        "list_kind": "ConfigMapList",
        "deployment_replicas": 1,  # defaulted by the server
        "after_delete": 404,
    }


# --- kubernetes_asyncio ------------------------------------------------------------------

async def async_core(cluster: Cluster) -> tuple[async_client.ApiClient, str]:
    api = await async_config.new_client_from_config(config_file=cluster.kubeconfig)
    ns = unique("asyncio")
    await async_client.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})
    return api, ns


async def watched_events(core: async_client.CoreV1Api, ns: str, **kwargs: Any
                         ) -> list[tuple[str, str, str]]:
    """Every event of one watch, which ends when the server's timeout does."""
    events = []
    async with async_watch.Watch() as w:
        async for e in w.stream(core.list_namespaced_config_map, ns, label_selector="watched",
                                timeout_seconds=1, **kwargs):
            meta = e["object"].metadata
            events.append((e["type"], meta.name, meta.resource_version))
    return events


async def test_kubernetes_asyncio_watch_resumes(cluster: Cluster) -> None:
    """kubernetes_asyncio sends `?watch=True`: upstream's bool decoding takes it as
    true and answers with a stream of events, not a list."""
    api, ns = await async_core(cluster)
    async with api:
        core = async_client.CoreV1Api(api)
        labels = {"watched": "yes"}
        await core.create_namespaced_config_map(ns, {"metadata": {"name": "w1",
                                                                  "labels": labels}})
        async with asyncio.timeout(30):
            first = await watched_events(core, ns)
        assert [e[:2] for e in first] == [("ADDED", "w1")]
        await core.create_namespaced_config_map(ns, {"metadata": {"name": "w2",
                                                                  "labels": labels}})
        await core.patch_namespaced_config_map("w1", ns, {"data": {"k": "v"}})
        await core.delete_namespaced_config_map("w2", ns)
        async with asyncio.timeout(30):
            second = await watched_events(core, ns, resource_version=first[-1][2])
        assert [e[:2] for e in second] == [("ADDED", "w2"), ("MODIFIED", "w1"),
                                           ("DELETED", "w2")]


def applied_config_map(value: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ssa"},
            "data": {"owned": value}}


async def test_kubernetes_asyncio_server_side_apply_force(cluster: Cluster) -> None:
    """A second field manager applying a field someone else owns gets 409 Conflict;
    with `force=True` (sent as `?force=True`) it takes the field over."""
    api, ns = await async_core(cluster)
    async with api:
        core = async_client.CoreV1Api(api)
        apply = "application/apply-patch+yaml"
        await core.patch_namespaced_config_map("ssa", ns, applied_config_map("one"),
                                               field_manager="first", _content_type=apply)
        with pytest.raises(async_client.ApiException) as conflict:
            await core.patch_namespaced_config_map("ssa", ns, applied_config_map("two"),
                                                   field_manager="second",
                                                   _content_type=apply)
        assert conflict.value.status == 409
        forced = await core.patch_namespaced_config_map(
            "ssa", ns, applied_config_map("two"), field_manager="second", force=True,
            _content_type=apply)
        assert forced.data == {"owned": "two"}
        owners = {m.manager: m.fields_v1 for m in forced.metadata.managed_fields}
        assert "f:owned" in json.dumps(owners["second"])
        assert "f:owned" not in json.dumps(owners.get("first") or {})


# --- lightkube -----------------------------------------------------------------------------

@pytest.fixture
def lightkube_client(cluster: Cluster) -> Iterator[tuple[Client, str]]:
    lk = Client(config=KubeConfig.from_file(cluster.kubeconfig), field_manager="lightkube")
    ns = unique("lightkube")
    lk.create(Namespace(metadata=ObjectMeta(name=ns)))
    yield lk, ns


def test_lightkube_get_list_create_apply(lightkube_client: tuple[Client, str]) -> None:
    lk, ns = lightkube_client
    created = lk.create(ConfigMap(metadata=ObjectMeta(name="made", labels={"lk": "1"}),
                                  data={"a": "1"}), namespace=ns)
    assert created.metadata.uid and created.metadata.namespace == ns
    assert lk.get(ConfigMap, "made", namespace=ns).data == {"a": "1"}
    applied = lk.apply(ConfigMap(metadata=ObjectMeta(name="applied", namespace=ns,
                                                     labels={"lk": "1"}),
                                 data={"b": "2"}))
    assert applied.data == {"b": "2"}
    assert [m.manager for m in applied.metadata.managedFields] == ["lightkube"]
    assert sorted(cm.metadata.name for cm in lk.list(ConfigMap, namespace=ns,
                                                     labels={"lk": "1"})) == ["applied", "made"]
    with pytest.raises(ApiError) as conflict:
        lk.apply(ConfigMap(metadata=ObjectMeta(name="applied", namespace=ns), data={"b": "3"}),
                 field_manager="someone-else")
    assert conflict.value.status.code == 409
    forced = lk.apply(ConfigMap(metadata=ObjectMeta(name="applied", namespace=ns),
                                data={"b": "3"}), field_manager="someone-else", force=True)
    assert forced.data == {"b": "3"}
    lk.delete(ConfigMap, "made", namespace=ns)
    with pytest.raises(ApiError) as missing:
        lk.get(ConfigMap, "made", namespace=ns)
    assert missing.value.status.code == 404


@pytest.mark.timeout(60)
def test_lightkube_watch_from_resource_version(lightkube_client: tuple[Client, str]) -> None:
    lk, ns = lightkube_client
    listed = lk.list(ConfigMap, namespace=ns)
    assert list(listed) == []  # lightkube lists lazily: resourceVersion comes with the items
    lk.create(ConfigMap(metadata=ObjectMeta(name="w"), data={"n": "1"}), namespace=ns)
    lk.patch(ConfigMap, "w", {"data": {"n": "2"}}, namespace=ns)
    lk.delete(ConfigMap, "w", namespace=ns)
    events = itertools.islice(lk.watch(ConfigMap, namespace=ns,
                                       resource_version=listed.resourceVersion), 3)
    assert [(kind, cm.metadata.name, cm.data) for kind, cm in events] == [
        ("ADDED", "w", {"n": "1"}), ("MODIFIED", "w", {"n": "2"}), ("DELETED", "w", {"n": "2"})]


# --- kr8s ------------------------------------------------------------------------------------

@pytest.mark.timeout(60)
def test_kr8s_crud_and_watch(cluster: Cluster) -> None:
    api = kr8s.api(kubeconfig=cluster.kubeconfig)
    ns = unique("kr8s")
    kr8s.objects.Namespace({"metadata": {"name": ns}}, api=api).create()
    cm = Kr8sConfigMap({"metadata": {"name": "k", "namespace": ns, "labels": {"k": "1"}},
                        "data": {"a": "1"}}, api=api)
    cm.create()
    start = cm.metadata.resourceVersion
    got = Kr8sConfigMap.get("k", namespace=ns, api=api)
    assert got.raw["data"] == {"a": "1"}
    got.patch({"data": {"a": "2"}})
    assert got.raw["data"] == {"a": "2"}
    assert [o.name for o in api.get("configmaps", namespace=ns, label_selector={"k": "1"})
            ] == ["k"]
    got.delete()
    assert not got.exists()
    events = itertools.islice(api.watch("configmaps", namespace=ns, since=start), 2)
    assert [(kind, obj.name, obj.raw["data"]) for kind, obj in events] == [
        ("MODIFIED", "k", {"a": "2"}), ("DELETED", "k", {"a": "2"})]


# --- kopf ------------------------------------------------------------------------------------

WIDGETS_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "knobs.clients.kubelite.io"},
    "spec": {
        "group": "clients.kubelite.io", "scope": "Namespaced",
        "names": {"plural": "knobs", "singular": "knob", "kind": "Knob"},
        "versions": [{
            "name": "v1", "served": True, "storage": True, "subresources": {"status": {}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            }}},
        }],
    },
}
KOPF_FINALIZER = "kopf.zalando.org/KopfFinalizerMarker"


@pytest.fixture
def kopf_operator(cluster: Cluster, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """`kopf run --standalone --namespace NS kopf_operator.py`, stopped by its pid."""
    cluster.kubectl("apply", "-f", "-", input=json.dumps(WIDGETS_CRD))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=30s",
                    "crd/knobs.clients.kubelite.io")
    ns = unique("kopf")
    cluster.kubectl("create", "namespace", ns)
    log = tmp_path / "kopf.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kopf", "run", "--standalone", "--namespace", ns,
             "--verbose", str(CLIENTS / "kopf_operator.py")],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
            env={**os.environ, "KUBECONFIG": cluster.kubeconfig})
    try:
        yield ns, log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.timeout(120)
def test_kopf_operator_handlers_timer_and_finalizer(cluster: Cluster,
                                                    kopf_operator: tuple[str, Path]) -> None:
    ns, log = kopf_operator
    api = k8s_config.new_client_from_config(config_file=cluster.kubeconfig)
    custom = k8s.CustomObjectsApi(api)
    knob = ("clients.kubelite.io", "v1", ns, "knobs")

    def status_has(key: str, want: Any) -> Callable[[], Any]:
        def check() -> Any:
            got = custom.get_namespaced_custom_object(*knob, "w")
            return got if want(got.get("status", {}).get(key)) else None
        return check

    def waited(what: str, check: Callable[[], Any]) -> Any:
        try:
            return wait_for(what, check, timeout=45)
        except AssertionError as err:
            raise AssertionError(f"{err}; kopf said:\n{log.read_text()[-6000:]}") from None

    custom.create_namespaced_custom_object(*knob, {
        "apiVersion": "clients.kubelite.io/v1", "kind": "Knob",
        "metadata": {"name": "w"}, "spec": {"size": 1}})
    created = waited("the create handler", status_has("created", lambda v: v == {"size": 1}))
    assert KOPF_FINALIZER in created["metadata"]["finalizers"]

    custom.patch_namespaced_custom_object(*knob, "w", {"spec": {"size": 2}})
    waited("the update handler",
           status_has("resized/spec.size", lambda v: v == {"from": 1, "to": 2}))
    waited("the timer to fire twice", status_has("ticks", lambda v: (v or 0) >= 2))

    custom.delete_namespaced_custom_object(*knob, "w")
    core = k8s.CoreV1Api(api)

    def trace_of_delete() -> Any:
        try:
            return core.read_namespaced_config_map("deleted-w", ns).data
        except k8s.ApiException as err:
            assert err.status == 404
            return None
    assert waited("the delete handler", trace_of_delete) == {"size": "2"}

    def gone() -> bool:
        try:
            custom.get_namespaced_custom_object(*knob, "w")
        except k8s.ApiException as err:
            return err.status == 404
        return False
    waited("kopf to remove its finalizer and the knob to go", gone)
