"""Real kubectl (v1.32 and v1.35, default flags) against a real kubelite server."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from tests.cluster import Cluster, tool

VERSIONS = ("1.32", "1.35")


@pytest.fixture(params=VERSIONS, ids=lambda v: f"kubectl-{v}")
def version(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def ns(cluster: Cluster) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
    return name


DEPLOYMENT = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: {app: web}
    spec:
      replicas: 2
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: nginx
            image: nginx:1.25
            ports: [{containerPort: 80}]
          - name: sidecar
            image: busybox:1.36
    """)


def quiet(result: subprocess.CompletedProcess[str]) -> None:
    """kubectl printed nothing on stderr: no OpenAPI, validation or skew warnings."""
    assert result.stderr.strip() == "", result.stderr


def test_api_resources_and_versions(cluster: Cluster, version: str) -> None:
    resources = cluster.kubectl("api-resources", version=version)
    quiet(resources)
    lines = resources.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    names = {line.split()[0] for line in lines[1:]}
    for plural in ("pods", "deployments", "cronjobs", "horizontalpodautoscalers",
                   "customresourcedefinitions", "leases", "endpointslices"):
        assert plural in names
    versions = cluster.kubectl("api-versions", version=version).stdout.split()
    assert {"v1", "apps/v1", "batch/v1", "autoscaling/v1", "autoscaling/v2"} <= set(versions)


def test_version_has_no_skew_warning(cluster: Cluster) -> None:
    # kubectl 1.32 warns about a 1.35 server, as it does against upstream: only the
    # matching client is expected to be silent.
    result = cluster.kubectl("version", version="1.35")
    quiet(result)
    assert "Server Version: v1.35.0+kubelite" in result.stdout


def test_explain(cluster: Cluster, version: str) -> None:
    result = cluster.kubectl("explain", "deployment.spec.replicas", version=version)
    quiet(result)
    assert "replicas" in result.stdout and "integer" in result.stdout


def test_create_get_describe_delete(cluster: Cluster, ns: str, version: str,
                                    tmp_path: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(DEPLOYMENT)
    quiet(cluster.kubectl("create", "-n", ns, "-f", str(manifest), version=version))
    got = json.loads(cluster.kubectl("get", "-n", ns, "deploy", "web", "-o", "json",
                                     version=version).stdout)
    assert got["spec"]["strategy"]["type"] == "RollingUpdate"  # defaulted by the server
    assert got["metadata"]["generation"] == 1
    wide = cluster.kubectl("get", "-n", ns, "deploy", "-o", "wide", version=version).stdout
    assert wide.split("\n")[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE",
                                           "CONTAINERS", "IMAGES", "SELECTOR"]
    assert "nginx,sidecar" in wide and "app=web" in wide
    assert cluster.kubectl("get", "-n", ns, "deploy", "-o", "name",
                           version=version).stdout.strip() == "deployment.apps/web"
    yaml_out = cluster.kubectl("get", "-n", ns, "deploy", "web", "-o", "yaml",
                               version=version).stdout
    assert "kind: Deployment" in yaml_out
    path = cluster.kubectl("get", "-n", ns, "deploy", "web", "-o",
                           "jsonpath={.spec.template.spec.containers[*].name}",
                           version=version).stdout
    assert path == "nginx sidecar"
    columns = cluster.kubectl("get", "-n", ns, "deploy", "-o",
                              "custom-columns=N:.metadata.name,R:.spec.replicas",
                              version=version).stdout.split()
    assert columns == ["N", "R", "web", "2"]
    described = cluster.kubectl("describe", "-n", ns, "deploy", "web", version=version)
    quiet(described)
    assert "Replicas:" in described.stdout and "nginx:1.25" in described.stdout
    deleted = cluster.kubectl("delete", "-n", ns, "-f", str(manifest), "--wait",
                              version=version)
    assert "deleted" in deleted.stdout
    missing = cluster.kubectl("get", "-n", ns, "deploy", "web", check=False, version=version)
    assert missing.returncode == 1 and "NotFound" in missing.stderr


def test_apply_twice_merges_container_list(cluster: Cluster, ns: str, version: str,
                                           tmp_path: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(DEPLOYMENT)
    quiet(cluster.kubectl("apply", "-n", ns, "-f", str(manifest), version=version))
    again = cluster.kubectl("apply", "-n", ns, "-f", str(manifest), version=version)
    quiet(again)
    assert "unchanged" in again.stdout
    # Change one image and drop the sidecar: apply's patch merges containers by name.
    manifest.write_text(DEPLOYMENT.replace("nginx:1.25", "nginx:1.26")
                        .replace("      - name: sidecar\n        image: busybox:1.36\n", ""))
    changed = cluster.kubectl("apply", "-n", ns, "-f", str(manifest), version=version)
    quiet(changed)
    assert "configured" in changed.stdout
    got = json.loads(cluster.kubectl("get", "-n", ns, "deploy", "web", "-o", "json").stdout)
    containers = got["spec"]["template"]["spec"]["containers"]
    assert [(c["name"], c["image"]) for c in containers] == [("nginx", "nginx:1.26")]
    assert containers[0]["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert got["metadata"]["generation"] == 2


def test_server_side_apply_and_conflict(cluster: Cluster, ns: str, version: str,
                                        tmp_path: Path) -> None:
    manifest = tmp_path / "deploy.yaml"
    manifest.write_text(DEPLOYMENT)
    quiet(cluster.kubectl("apply", "--server-side", "-n", ns, "-f", str(manifest),
                          version=version))
    cluster.kubectl("scale", "-n", ns, "deploy", "web", "--replicas=5", version=version)
    conflict = cluster.kubectl("apply", "--server-side", "-n", ns, "-f", str(manifest),
                               check=False, version=version)
    assert conflict.returncode != 0
    assert "conflict" in conflict.stderr.lower() and ".spec.replicas" in conflict.stderr
    forced = cluster.kubectl("apply", "--server-side", "--force-conflicts", "-n", ns, "-f",
                             str(manifest), version=version)
    assert "serverside-applied" in forced.stdout
    got = json.loads(cluster.kubectl("get", "-n", ns, "deploy", "web", "-o", "json",
                                     "--show-managed-fields").stdout)
    assert got["spec"]["replicas"] == 2
    managers = {m["manager"] for m in got["metadata"]["managedFields"]}
    assert "kubectl" in managers


def test_label_annotate_patch_replace(cluster: Cluster, ns: str, version: str,
                                      tmp_path: Path) -> None:
    cluster.kubectl("create", "-n", ns, "-f", "-", version=version, input=textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings}
        data: {a: "1"}
        """))
    cluster.kubectl("label", "-n", ns, "cm", "settings", "tier=backend", version=version)
    cluster.kubectl("annotate", "-n", ns, "cm", "settings", "owner=team-a", version=version)
    assert cluster.kubectl("get", "-n", ns, "cm", "-l", "tier in (backend,frontend)", "-o",
                           "name", version=version).stdout.strip() == "configmap/settings"
    assert cluster.kubectl("get", "-n", ns, "cm", "-l", "tier!=backend", "-o", "name",
                           version=version).stdout.strip() == ""
    cluster.kubectl("patch", "-n", ns, "cm", "settings", "-p", '{"data":{"b":"2"}}',
                    version=version)
    cluster.kubectl("patch", "-n", ns, "cm", "settings", "--type=merge", "-p",
                    '{"data":{"a":null}}', version=version)
    cluster.kubectl("patch", "-n", ns, "cm", "settings", "--type=json", "-p",
                    '[{"op":"add","path":"/data/c","value":"3"}]', version=version)
    got = json.loads(cluster.kubectl("get", "-n", ns, "cm", "settings", "-o", "json").stdout)
    assert got["data"] == {"b": "2", "c": "3"}
    assert got["metadata"]["labels"] == {"tier": "backend"}
    assert got["metadata"]["annotations"]["owner"] == "team-a"
    got["data"] = {"replaced": "yes"}
    replaced = tmp_path / "cm.json"
    replaced.write_text(json.dumps(got))
    cluster.kubectl("replace", "-f", str(replaced), version=version)
    stale = cluster.kubectl("replace", "-f", str(replaced), check=False, version=version)
    assert stale.returncode != 0 and "the object has been modified" in stale.stderr
    got = json.loads(cluster.kubectl("get", "-n", ns, "cm", "settings", "-o", "json").stdout)
    assert got["data"] == {"replaced": "yes"}


def test_field_selector_and_all_namespaces(cluster: Cluster, ns: str, version: str) -> None:
    for name in ("one", "two"):
        cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}))
    out = cluster.kubectl("get", "cm", "-A", "--field-selector",
                          f"metadata.namespace={ns},metadata.name!=one", "-o", "name",
                          version=version).stdout.split()
    assert out == ["configmap/two"]
    bad = cluster.kubectl("get", "cm", "--field-selector", "spec.nope=1", check=False,
                          version=version)
    assert bad.returncode != 0 and "field label not supported: spec.nope" in bad.stderr


def test_strict_validation_rejects_unknown_field(cluster: Cluster, ns: str,
                                                 version: str) -> None:
    bad = DEPLOYMENT.replace("replicas: 2", "replicas: 2\n  replicaz: 3")
    result = cluster.kubectl("create", "-n", ns, "-f", "-", input=bad, check=False,
                             version=version)
    assert result.returncode != 0
    assert 'unknown field "spec.replicaz"' in result.stderr
    assert cluster.kubectl("get", "-n", ns, "deploy", "-o", "name").stdout == ""


def test_wait_for_condition_and_jsonpath(cluster: Cluster, ns: str, version: str) -> None:
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "flag"},
        "data": {"ready": "yes"}}))
    cluster.kubectl("wait", "-n", ns, "cm/flag", "--for=jsonpath={.data.ready}=yes",
                    "--timeout=20s", version=version)
    crd = cluster.kubectl("get", "crd", "-o", "name", version=version)
    assert crd.returncode == 0
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=20s",
                    "-n", ns, "cm/flag", check=False, version=version)


def test_diff_and_kustomize(cluster: Cluster, ns: str, version: str, tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: kustomized}
        data: {a: "1"}
        """))
    (tmp_path / "kustomization.yaml").write_text(
        f"namespace: {ns}\nresources: [cm.yaml]\ncommonLabels: {{app: demo}}\n")
    cluster.kubectl("apply", "-k", str(tmp_path), version=version)
    got = json.loads(cluster.kubectl("get", "-n", ns, "cm", "kustomized", "-o", "json").stdout)
    assert got["metadata"]["labels"] == {"app": "demo"}
    same = cluster.kubectl("diff", "-k", str(tmp_path), check=False, version=version)
    assert same.returncode == 0, same.stderr
    (tmp_path / "cm.yaml").write_text((tmp_path / "cm.yaml").read_text().replace('"1"', '"2"'))
    changed = cluster.kubectl("diff", "-k", str(tmp_path), check=False, version=version)
    assert changed.returncode == 1 and '+  a: "2"' in changed.stdout


def test_edit_with_editor(cluster: Cluster, ns: str, version: str, tmp_path: Path) -> None:
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "editme"},
        "data": {"a": "1"}}))
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/a: \"1\"/a: \"edited\"/' \"$1\"\n")
    editor.chmod(0o755)
    env_editor = {"KUBE_EDITOR": str(editor)}
    old = {k: os.environ.get(k) for k in env_editor}
    os.environ.update(env_editor)
    try:
        cluster.kubectl("edit", "-n", ns, "cm", "editme", version=version)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    got = json.loads(cluster.kubectl("get", "-n", ns, "cm", "editme", "-o", "json").stdout)
    assert got["data"] == {"a": "edited"}


def test_namespace_deletion_removes_contents(cluster: Cluster, version: str) -> None:
    name = f"gone-{uuid.uuid4().hex[:6]}"
    cluster.kubectl("create", "-f", "-", input=json.dumps(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        version=version)
    cluster.kubectl("create", "-n", name, "-f", "-", input=json.dumps({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "inside"}}))
    cluster.kubectl("delete", "namespace", name, "--wait", "--timeout=30s", version=version)
    assert cluster.kubectl("get", "ns", name, check=False).returncode == 1
    leftovers = cluster.kubectl("get", "cm", "-n", name, "-o", "name").stdout
    assert leftovers == ""


def test_the_clusters_own_namespaces_may_not_be_deleted(cluster: Cluster, version: str
                                                        ) -> None:
    result = cluster.kubectl("delete", "namespace", "kube-public", check=False,
                             version=version)
    assert result.returncode == 1
    assert ('Error from server (Forbidden): namespaces "kube-public" is forbidden: this '
            "namespace may not be deleted") in result.stderr
    assert cluster.kubectl("get", "ns", "kube-public", "-o", "jsonpath={.status.phase}",
                           version=version).stdout == "Active"


IMPERATIVE = [
    ("configmap", ["create", "configmap", "cfg", "--from-literal=a=b"], "cm/cfg",
     "{.data.a}", "b"),
    ("secret", ["create", "secret", "generic", "sec", "--from-literal=p=s3cret"], "secret/sec",
     "{.type}", "Opaque"),
    ("deployment", ["create", "deployment", "web", "--image=nginx:1.25", "--replicas=2"],
     "deploy/web", "{.spec.replicas}", "2"),
    ("service", ["create", "service", "clusterip", "svc", "--tcp=80:8080"], "svc/svc",
     "{.spec.ports[0].targetPort}", "8080"),
    ("job", ["create", "job", "once", "--image=busybox"], "job/once",
     "{.spec.backoffLimit}", "6"),
    ("cronjob", ["create", "cronjob", "tick", "--image=busybox", "--schedule=*/5 * * * *"],
     "cronjob/tick", "{.spec.concurrencyPolicy}", "Allow"),
    ("role", ["create", "role", "reader", "--verb=get", "--resource=pods"], "role/reader",
     "{.rules[0].verbs[0]}", "get"),
    ("serviceaccount", ["create", "serviceaccount", "robot"], "sa/robot",
     "{.metadata.name}", "robot"),
    ("pod", ["run", "one", "--image=nginx:1.25", "--labels=app=one"], "pod/one",
     "{.spec.restartPolicy}", "Always"),
]


@pytest.mark.parametrize("kind,args,ref,path,expected", IMPERATIVE,
                         ids=[c[0] for c in IMPERATIVE])
def test_imperative_create(cluster: Cluster, ns: str, version: str, kind: str,
                           args: list[str], ref: str, path: str, expected: str) -> None:
    """kubectl's typed commands send protobuf bodies; the server decodes them."""
    quiet(cluster.kubectl(*args, "-n", ns, version=version))
    got = cluster.kubectl("get", ref, "-n", ns, "-o", f"jsonpath={path}", version=version)
    assert got.stdout == expected


def test_get_watch_streams_changes(cluster: Cluster, ns: str, version: str) -> None:
    watcher = subprocess.Popen([tool(f"kubectl-{version}"), "get", "cm", "-n", ns, "-w"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "KUBECONFIG": cluster.kubeconfig})
    try:
        time.sleep(0.5)
        cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched"},
            "data": {"a": "1"}}))
        lines: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any("watched" in line for line in lines):
            lines.append(watcher.stdout.readline())  # type: ignore[union-attr]
        assert any(line.split()[:2] == ["watched", "1"] for line in lines), lines
    finally:
        watcher.terminate()
        watcher.wait(10)
