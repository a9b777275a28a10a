"""The official `kubernetes` Python client and helm v4, unchanged, against kubelite."""

from __future__ import annotations

import json
import textwrap
import uuid
from pathlib import Path

import pytest
from kubernetes import client, config, watch

from tests.cluster import Cluster


@pytest.fixture
def api(cluster: Cluster) -> client.ApiClient:
    return config.new_client_from_config(config_file=cluster.kubeconfig)


@pytest.fixture
def ns(api: client.ApiClient) -> str:
    name = f"py-{uuid.uuid4().hex[:8]}"
    client.CoreV1Api(api).create_namespace({"metadata": {"name": name}})
    return name


def test_crud(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    created = core.create_namespaced_config_map(ns, {"metadata": {"name": "c"},
                                                     "data": {"a": "1"}})
    assert created.metadata.uid
    created.data["a"] = "2"
    replaced = core.replace_namespaced_config_map("c", ns, created)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    patched = core.patch_namespaced_config_map("c", ns, {"data": {"b": "3"}})
    assert patched.data == {"a": "2", "b": "3"}
    assert core.read_namespaced_config_map("c", ns).data == {"a": "2", "b": "3"}
    core.delete_namespaced_config_map("c", ns)
    with pytest.raises(client.ApiException) as err:
        core.read_namespaced_config_map("c", ns)
    assert err.value.status == 404
    apps = client.AppsV1Api(api)
    dep = apps.create_namespaced_deployment(ns, {
        "metadata": {"name": "d"},
        "spec": {"selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    assert dep.spec.template.spec.containers[0].image_pull_policy == "Always"
    assert dep.spec.revision_history_limit == 10


def test_list_pagination(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    for i in range(10):
        core.create_namespaced_config_map(ns, {"metadata": {"name": f"c{i:02d}"}})
    names, token = [], None
    while True:
        page = core.list_namespaced_config_map(ns, limit=3, _continue=token)
        names += [i.metadata.name for i in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == [f"c{i:02d}" for i in range(10)]


def test_watch_resumes_from_resource_version(api: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "first"}})
    listed = core.list_namespaced_config_map(ns)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "second"}})
    core.delete_namespaced_config_map("first", ns)
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, ns,
                          resource_version=listed.metadata.resource_version,
                          timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 2:
            w.stop()
    assert seen == [("ADDED", "second"), ("DELETED", "first")]


CHART = {
    "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: '1.0'\n",
    "values.yaml": "replicas: 1\nimage: nginx:1.25\ngreeting: hello\n",
    "templates/configmap.yaml": textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: {{ .Release.Name }}-config}
        data: {greeting: {{ .Values.greeting | quote }}}
        """),
    "templates/secret.yaml": textwrap.dedent("""\
        apiVersion: v1
        kind: Secret
        metadata: {name: {{ .Release.Name }}-secret}
        stringData: {password: s3cret}
        """),
    "templates/service.yaml": textwrap.dedent("""\
        apiVersion: v1
        kind: Service
        metadata: {name: {{ .Release.Name }}-svc}
        spec:
          selector: {app: {{ .Release.Name }}}
          ports: [{port: 80, targetPort: 8080}]
        """),
    "templates/deployment.yaml": textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: {{ .Release.Name }}-web}
        spec:
          replicas: {{ .Values.replicas }}
          selector: {matchLabels: {app: {{ .Release.Name }}}}
          template:
            metadata: {labels: {app: {{ .Release.Name }}}}
            spec:
              containers:
              - name: web
                image: {{ .Values.image }}
        """),
}


def test_helm_release_lifecycle(cluster: Cluster, tmp_path: Path) -> None:
    chart = tmp_path / "demo"
    for name, text in CHART.items():
        (chart / name).parent.mkdir(parents=True, exist_ok=True)
        (chart / name).write_text(text)
    ns = f"helm-{uuid.uuid4().hex[:6]}"
    cluster.helm("install", "demo", str(chart), "-n", ns, "--create-namespace")
    got = json.loads(cluster.kubectl("get", "deploy", "demo-web", "-n", ns, "-o",
                                     "json").stdout)
    assert got["spec"]["replicas"] == 1
    secrets = cluster.kubectl("get", "secrets", "-n", ns, "-o", "name").stdout.split()
    assert "secret/sh.helm.release.v1.demo.v1" in secrets
    cluster.helm("upgrade", "demo", str(chart), "-n", ns, "--set", "replicas=3",
                 "--set", "greeting=bonjour")
    got = json.loads(cluster.kubectl("get", "deploy", "demo-web", "-n", ns, "-o",
                                     "json").stdout)
    assert got["spec"]["replicas"] == 3
    history = cluster.helm("history", "demo", "-n", ns, "-o", "json")
    assert [r["revision"] for r in json.loads(history.stdout)] == [1, 2]
    values = json.loads(cluster.helm("get", "values", "demo", "-n", ns, "-o", "json").stdout)
    assert values == {"replicas": 3, "greeting": "bonjour"}
    manifest = cluster.helm("get", "manifest", "demo", "-n", ns).stdout
    assert "kind: Deployment" in manifest and "bonjour" in manifest
    cluster.helm("rollback", "demo", "1", "-n", ns)
    got = json.loads(cluster.kubectl("get", "cm", "demo-config", "-n", ns, "-o",
                                     "json").stdout)
    assert got["data"]["greeting"] == "hello"
    listed = json.loads(cluster.helm("list", "-n", ns, "-o", "json").stdout)
    assert [(r["name"], r["revision"], r["status"]) for r in listed] == \
        [("demo", "3", "deployed")]
    cluster.helm("uninstall", "demo", "-n", ns, "--wait")
    left = cluster.kubectl("get", "cm,secret,svc,deploy", "-n", ns, "-o", "name").stdout
    assert left.split() == []
