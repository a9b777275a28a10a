"""helm v4, unchanged, against kubelite: the release paths beyond install/upgrade/rollback.

Nothing runs pods, so every chart here holds only objects that are ready as soon as
they exist (ConfigMaps, Secrets, ClusterIP/NodePort Services, custom resources), and
hooks are ConfigMaps, which helm creates and deletes without waiting on them. What
needs a running pod (a hook Job helm waits for, readiness of a Deployment) is skipped.
A test that fails because kubelite differs from a 1.35 API server is marked
xfail(strict) with the reason.
"""

from __future__ import annotations

import base64
import json
import os
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cluster import Cluster

CHART_YAML = "apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: '1.0'\n"


def write_chart(root: Path, name: str, files: dict[str, str | bytes]) -> Path:
    chart = root / name
    files = {"Chart.yaml": CHART_YAML.format(name=name), "values.yaml": "greeting: hello\n",
             **files}
    for rel, text in files.items():
        path = chart / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text)
    return chart


def get_json(cluster: Cluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def helm_json(cluster: Cluster, *args: str) -> Any:
    return json.loads(cluster.helm(*args, "-o", "json").stdout)


@pytest.fixture
def ns(cluster: Cluster) -> str:
    name = f"hm-{uuid.uuid4().hex[:8]}"
    cluster.kubectl("create", "namespace", name)
    return name


CONFIG = textwrap.dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: {{ .Release.Name }}-config}
    data: {greeting: {{ .Values.greeting | quote }}}
    """)
HOOK_CM = textwrap.dedent("""\
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: {{ .Release.Name }}-hook
      annotations:
        helm.sh/hook: pre-install,pre-upgrade
        helm.sh/hook-weight: "-5"
        helm.sh/hook-delete-policy: before-hook-creation
    data: {revision: {{ .Release.Revision | quote }}}
    """)
HOOK_JOB = textwrap.dedent("""\
    apiVersion: batch/v1
    kind: Job
    metadata:
      name: {{ .Release.Name }}-migrate
      annotations:
        helm.sh/hook: pre-install
        helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers: [{name: m, image: busybox, command: ["true"]}]
    """)
SERVICE = textwrap.dedent("""\
    apiVersion: v1
    kind: Service
    metadata: {name: {{ .Release.Name }}-svc}
    spec:
      type: NodePort
      selector: {app: {{ .Release.Name }}}
      ports:
      - {name: http, port: 80, targetPort: 8080}
      - {name: fixed, port: 81, nodePort: {{ .Values.nodePort }}}
    """)


def test_upgrade_install_fresh_then_existing(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "up", {"templates/cm.yaml": CONFIG})
    cluster.helm("upgrade", "--install", "up", str(chart), "-n", ns)
    assert get_json(cluster, "cm", "up-config", "-n", ns)["data"] == {"greeting": "hello"}
    cluster.helm("upgrade", "--install", "up", str(chart), "-n", ns, "--set", "greeting=hi")
    got = get_json(cluster, "cm", "up-config", "-n", ns)
    assert got["data"] == {"greeting": "hi"}
    assert got["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"
    assert got["metadata"]["annotations"]["meta.helm.sh/release-name"] == "up"
    history = helm_json(cluster, "history", "up", "-n", ns)
    assert [(r["revision"], r["status"]) for r in history] == \
        [(1, "superseded"), (2, "deployed")]
    # helm v4 applies server-side on a fresh install and keeps doing so on upgrade.
    got = get_json(cluster, "cm", "up-config", "-n", ns, "--show-managed-fields")
    managers = {m["manager"]: m["operation"] for m in got["metadata"]["managedFields"]}
    assert managers == {"helm": "Apply"}


def test_client_side_upgrade_after_server_side_install(cluster: Cluster, ns: str,
                                                       tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "mix", {"templates/cm.yaml": CONFIG})
    cluster.helm("install", "mix", str(chart), "-n", ns)
    cluster.helm("upgrade", "mix", str(chart), "-n", ns, "--server-side=false",
                 "--set", "greeting=patched")
    assert get_json(cluster, "cm", "mix-config", "-n", ns)["data"] == {"greeting": "patched"}
    cluster.helm("upgrade", "mix", str(chart), "-n", ns, "--server-side=true",
                 "--force-conflicts", "--set", "greeting=applied")
    assert get_json(cluster, "cm", "mix-config", "-n", ns)["data"] == {"greeting": "applied"}


def test_template_offline_matches_server_dry_run(cluster: Cluster, ns: str,
                                                 tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "dry", {"templates/cm.yaml": CONFIG,
                                          "templates/svc.yaml": SERVICE,
                                          "values.yaml": "greeting: hello\nnodePort: 30081\n"})
    offline = cluster.helm("template", "dry", str(chart), "-n", ns).stdout
    dry = cluster.helm("install", "dry", str(chart), "-n", ns, "--dry-run=server").stdout
    docs = [d for d in yaml.safe_load_all(offline) if d]
    assert sorted(d["kind"] for d in docs) == ["ConfigMap", "Service"]
    manifest = dry.split("MANIFEST:", 1)[1]
    assert [d for d in yaml.safe_load_all(manifest) if d] == docs
    # A server dry run persists neither the objects nor a release record.
    left = cluster.kubectl("get", "cm,svc,secret", "-n", ns, "-o", "name").stdout.split()
    assert [n for n in left if "dry" in n] == []
    assert cluster.helm("list", "-n", ns, "-q").stdout.split() == []


def test_status_get_all_and_hooks(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "hooked", {
        "templates/cm.yaml": CONFIG, "templates/hook.yaml": HOOK_CM,
        "templates/NOTES.txt": "Hello from {{ .Release.Name }}\n"})
    cluster.helm("install", "hooked", str(chart), "-n", ns)
    status = helm_json(cluster, "status", "hooked", "-n", ns)
    assert status["info"]["status"] == "deployed"
    assert status["info"]["notes"].strip() == "Hello from hooked"
    assert [h["name"] for h in status["hooks"]] == ["hooked-hook"]
    assert status["hooks"][0]["last_run"]["phase"] == "Succeeded"
    hook = get_json(cluster, "cm", "hooked-hook", "-n", ns)
    assert hook["data"] == {"revision": "1"}
    every = cluster.helm("get", "all", "hooked", "-n", ns).stdout
    assert "kind: ConfigMap" in every and "Hello from hooked" in every
    hooks = cluster.helm("get", "hooks", "hooked", "-n", ns).stdout
    assert "helm.sh/hook: pre-install,pre-upgrade" in hooks
    # before-hook-creation: the upgrade deletes the old hook object and creates it anew.
    cluster.helm("upgrade", "hooked", str(chart), "-n", ns)
    again = get_json(cluster, "cm", "hooked-hook", "-n", ns)
    assert again["data"] == {"revision": "2"}
    assert again["metadata"]["uid"] != hook["metadata"]["uid"]
    # Hooks are not part of the release's resources: uninstall leaves them.
    cluster.helm("uninstall", "hooked", "-n", ns)
    left = cluster.kubectl("get", "cm", "-n", ns, "-o", "name").stdout.split()
    assert [n for n in left if n.startswith("configmap/hooked")] == ["configmap/hooked-hook"]


def test_job_hook_skipped_with_no_hooks(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "jobhook", {"templates/cm.yaml": CONFIG,
                                              "templates/job.yaml": HOOK_JOB})
    cluster.helm("install", "jobhook", str(chart), "-n", ns, "--no-hooks")
    assert "kind: Job" in cluster.helm("get", "hooks", "jobhook", "-n", ns).stdout
    assert cluster.kubectl("get", "jobs", "-n", ns, "-o", "name").stdout.split() == []
    assert get_json(cluster, "cm", "jobhook-config", "-n", ns)["data"]["greeting"] == "hello"


@pytest.mark.skip(reason="helm waits for a hook Job to complete, which needs a running pod")
def test_job_hook_runs() -> None:
    raise AssertionError("unreachable")


CRD = textwrap.dedent("""\
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata: {name: gadgets.GROUP}
    spec:
      group: GROUP
      scope: Namespaced
      names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
      versions:
      - name: v1
        served: true
        storage: true
        schema:
          openAPIV3Schema:
            type: object
            properties:
              spec:
                type: object
                properties:
                  size: {type: integer}
    """)
CR = textwrap.dedent("""\
    apiVersion: GROUP/v1
    kind: Gadget
    metadata: {name: {{ .Release.Name }}-gadget}
    spec: {size: {{ .Values.size }}}
    """)


def test_crds_directory_then_custom_resource(cluster: Cluster, ns: str,
                                             tmp_path: Path) -> None:
    group = f"h{uuid.uuid4().hex[:6]}.example.com"
    chart = write_chart(tmp_path, "crdchart", {
        "crds/gadgets.yaml": CRD.replace("GROUP", group),
        "templates/gadget.yaml": CR.replace("GROUP", group),
        "values.yaml": "size: 3\n"})
    cluster.helm("install", "crdchart", str(chart), "-n", ns)
    got = get_json(cluster, f"gadgets.{group}", "crdchart-gadget", "-n", ns)
    assert got["spec"] == {"size": 3}
    cluster.helm("upgrade", "crdchart", str(chart), "-n", ns, "--set", "size=4")
    assert get_json(cluster, f"gadgets.{group}", "crdchart-gadget",
                    "-n", ns)["spec"] == {"size": 4}
    # The CRD is not part of the release: uninstall keeps it, and a second install of
    # the same chart skips it.
    cluster.helm("uninstall", "crdchart", "-n", ns)
    cluster.kubectl("get", "crd", f"gadgets.{group}")
    cluster.helm("install", "crdchart", str(chart), "-n", ns)
    assert get_json(cluster, f"gadgets.{group}", "crdchart-gadget",
                    "-n", ns)["spec"] == {"size": 3}


def test_node_port_service(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    port = 30000 + int(uuid.uuid4().hex[:4], 16) % 2700
    chart = write_chart(tmp_path, "np", {"templates/svc.yaml": SERVICE,
                                         "values.yaml": f"nodePort: {port}\n"})
    cluster.helm("install", "np", str(chart), "-n", ns)
    svc = get_json(cluster, "svc", "np-svc", "-n", ns)
    ports = {p["name"]: p for p in svc["spec"]["ports"]}
    assert ports["fixed"]["nodePort"] == port
    allocated = ports["http"]["nodePort"]
    assert 30000 <= allocated <= 32767
    # An upgrade keeps the allocated port and the cluster IP.
    cluster.helm("upgrade", "np", str(chart), "-n", ns, "--set", "greeting=x")
    again = get_json(cluster, "svc", "np-svc", "-n", ns)
    assert {p["name"]: p["nodePort"] for p in again["spec"]["ports"]} == \
        {"http": allocated, "fixed": port}
    assert again["spec"]["clusterIP"] == svc["spec"]["clusterIP"]
    # A client-side upgrade (three-way merge) keeps them too.
    cluster.helm("upgrade", "np", str(chart), "-n", ns, "--server-side=false")
    again = get_json(cluster, "svc", "np-svc", "-n", ns)
    assert {p["name"]: p["nodePort"] for p in again["spec"]["ports"]} == \
        {"http": allocated, "fixed": port}


def test_secret_with_binary_data(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    blob = bytes(range(256)) * 4 + os.urandom(1024)
    chart = write_chart(tmp_path, "bin", {
        "files/blob.bin": blob,
        "templates/secret.yaml": textwrap.dedent("""\
            apiVersion: v1
            kind: Secret
            metadata: {name: {{ .Release.Name }}-bin}
            type: Opaque
            data:
              blob: {{ .Files.Get "files/blob.bin" | b64enc }}
            """),
        "templates/cm.yaml": textwrap.dedent("""\
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: {{ .Release.Name }}-bin}
            binaryData:
              blob: {{ .Files.Get "files/blob.bin" | b64enc }}
            """)})
    cluster.helm("install", "bin", str(chart), "-n", ns)
    secret = get_json(cluster, "secret", "bin-bin", "-n", ns)
    assert base64.b64decode(secret["data"]["blob"]) == blob
    cm = get_json(cluster, "cm", "bin-bin", "-n", ns)
    assert base64.b64decode(cm["binaryData"]["blob"]) == blob


def test_large_configmap_and_release_secret(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "big", {"templates/cm.yaml": textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: {{ .Release.Name }}-big}
        data:
          payload: {{ randAlphaNum 512000 | quote }}
        """)})
    cluster.helm("install", "big", str(chart), "-n", ns)
    cm = get_json(cluster, "cm", "big-big", "-n", ns)
    assert len(cm["data"]["payload"]) == 512000
    release = get_json(cluster, "secret", "sh.helm.release.v1.big.v1", "-n", ns)
    assert release["type"] == "helm.sh/release.v1"
    assert len(release["data"]["release"]) > 300_000
    cluster.helm("upgrade", "big", str(chart), "-n", ns)
    assert helm_json(cluster, "status", "big", "-n", ns)["version"] == 2


def test_list_all_namespaces_and_two_releases(cluster: Cluster, ns: str,
                                              tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "pair", {"templates/cm.yaml": CONFIG})
    other = f"{ns}-b"
    cluster.helm("install", "one", str(chart), "-n", ns)
    cluster.helm("install", "two", str(chart), "-n", ns, "--set", "greeting=two")
    cluster.helm("install", "three", str(chart), "-n", other, "--create-namespace")
    listed = helm_json(cluster, "list", "-n", ns)
    assert [(r["name"], r["status"]) for r in listed] == [("one", "deployed"),
                                                           ("two", "deployed")]
    everywhere = helm_json(cluster, "list", "-A")
    mine = sorted((r["namespace"], r["name"]) for r in everywhere
                  if r["namespace"] in (ns, other))
    assert mine == sorted([(ns, "one"), (ns, "two"), (other, "three")])
    assert get_json(cluster, "cm", "two-config", "-n", ns)["data"] == {"greeting": "two"}
    # Filters by label selector on the release Secrets.
    filtered = helm_json(cluster, "list", "-n", ns, "--filter", "^tw")
    assert [r["name"] for r in filtered] == ["two"]


def test_second_release_cannot_take_another_releases_object(cluster: Cluster, ns: str,
                                                            tmp_path: Path) -> None:
    fixed = CONFIG.replace("{{ .Release.Name }}-config", "shared-config")
    chart = write_chart(tmp_path, "clash", {"templates/cm.yaml": fixed})
    cluster.helm("install", "first", str(chart), "-n", ns)
    result = cluster.helm("install", "second", str(chart), "-n", ns, check=False)
    assert result.returncode != 0
    assert "invalid ownership metadata" in result.stderr
    got = get_json(cluster, "cm", "shared-config", "-n", ns)
    assert got["metadata"]["annotations"]["meta.helm.sh/release-name"] == "first"


def test_take_ownership_adopts_existing_object(cluster: Cluster, ns: str,
                                               tmp_path: Path) -> None:
    cluster.kubectl("create", "configmap", "adopt-config", "-n", ns,
                    "--from-literal=greeting=manual")
    chart = write_chart(tmp_path, "adopt", {"templates/cm.yaml": CONFIG})
    result = cluster.helm("install", "adopt", str(chart), "-n", ns, check=False)
    assert result.returncode != 0 and "exists and cannot be imported" in result.stderr
    # The value differs from what kubectl-create owns, so server-side apply needs force,
    # as on any 1.35 cluster.
    cluster.helm("install", "adopt", str(chart), "-n", ns, "--take-ownership",
                 "--force-conflicts")
    got = get_json(cluster, "cm", "adopt-config", "-n", ns)
    assert got["data"] == {"greeting": "hello"}
    assert got["metadata"]["annotations"]["meta.helm.sh/release-name"] == "adopt"


def test_uninstall_keep_history(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "kept", {"templates/cm.yaml": CONFIG})
    cluster.helm("install", "kept", str(chart), "-n", ns)
    cluster.helm("upgrade", "kept", str(chart), "-n", ns, "--set", "greeting=v2")
    cluster.helm("uninstall", "kept", "-n", ns, "--keep-history")
    history = helm_json(cluster, "history", "kept", "-n", ns)
    assert [(r["revision"], r["status"]) for r in history] == \
        [(1, "superseded"), (2, "uninstalled")]
    assert cluster.kubectl("get", "cm", "kept-config", "-n", ns,
                           check=False).returncode != 0
    listed = helm_json(cluster, "list", "-n", ns, "--uninstalled")
    assert [(r["name"], r["status"]) for r in listed] == [("kept", "uninstalled")]
    # A kept release can be rolled back into life.
    cluster.helm("rollback", "kept", "1", "-n", ns)
    assert get_json(cluster, "cm", "kept-config", "-n", ns)["data"] == {"greeting": "hello"}
    assert helm_json(cluster, "status", "kept", "-n", ns)["info"]["status"] == "deployed"


def test_rollback_on_failure_restores_previous_release(cluster: Cluster, ns: str,
                                                       tmp_path: Path) -> None:
    """`--rollback-on-failure` (v3's --atomic) waits with the watcher; a chart of
    ConfigMaps is ready at once, so no pod is needed. The bad upgrade adds a Service
    the server rejects."""
    chart = write_chart(tmp_path, "atom", {"templates/cm.yaml": CONFIG})
    cluster.helm("install", "atom", str(chart), "-n", ns, "--wait=watcher", "--timeout=30s")
    bad = write_chart(tmp_path / "bad", "atom", {
        "templates/cm.yaml": CONFIG,
        "templates/svc.yaml": textwrap.dedent("""\
            apiVersion: v1
            kind: Service
            metadata: {name: atom-bad}
            spec: {ports: [{port: 70000}]}
            """)})
    result = cluster.helm("upgrade", "atom", str(bad), "-n", ns, "--rollback-on-failure",
                          "--timeout=30s", "--set", "greeting=new", check=False)
    assert result.returncode != 0
    history = helm_json(cluster, "history", "atom", "-n", ns)
    assert [r["status"] for r in history] == ["superseded", "failed", "deployed"]
    assert get_json(cluster, "cm", "atom-config", "-n", ns)["data"] == {"greeting": "hello"}


@pytest.mark.skip(reason="--rollback-on-failure/--wait on Deployments need ready pods")
def test_rollback_on_failure_with_deployment() -> None:
    raise AssertionError("unreachable")


def test_wait_watcher_on_ready_kinds(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    """The watcher wait (kstatus) over kinds that are ready as soon as they exist."""
    chart = write_chart(tmp_path, "waited", {
        "templates/cm.yaml": CONFIG,
        "templates/svc.yaml": SERVICE.replace("type: NodePort", "type: ClusterIP").replace(
            ", nodePort: {{ .Values.nodePort }}", ""),
        "templates/sa.yaml": "apiVersion: v1\nkind: ServiceAccount\n"
                             "metadata: {name: waited-sa}\n"})
    cluster.helm("install", "waited", str(chart), "-n", ns, "--wait=watcher", "--timeout=30s")
    assert helm_json(cluster, "status", "waited", "-n", ns)["info"]["status"] == "deployed"
    cluster.helm("uninstall", "waited", "-n", ns, "--wait", "--timeout=30s")
    assert helm_json(cluster, "list", "-n", ns) == []


CAPS = textwrap.dedent("""\
    {{- $existing := lookup "v1" "Secret" .Release.Namespace "caps-pw" }}
    apiVersion: v1
    kind: Secret
    metadata: {name: caps-pw}
    stringData:
      {{- if $existing }}
      password: {{ index $existing.data "password" | b64dec }}
      {{- else }}
      password: {{ randAlphaNum 12 }}
      {{- end }}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: caps-info}
    data:
      kube: {{ .Capabilities.KubeVersion.Version | quote }}
      minor: {{ .Capabilities.KubeVersion.Minor | quote }}
      hpav2: {{ .Capabilities.APIVersions.Has "autoscaling/v2/HorizontalPodAutoscaler" | quote }}
      policy: {{ .Capabilities.APIVersions.Has "policy/v1" | quote }}
      missing: {{ .Capabilities.APIVersions.Has "policy/v1beta1/PodSecurityPolicy" | quote }}
      namespaces: {{ (lookup "v1" "Namespace" "" "").items | len | quote }}
    """)


def test_capabilities_and_lookup(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    """Charts branch on discovery (.Capabilities) and read live objects (lookup)."""
    chart = write_chart(tmp_path, "caps", {"templates/all.yaml": CAPS})
    cluster.helm("install", "caps", str(chart), "-n", ns)
    info = get_json(cluster, "cm", "caps-info", "-n", ns)["data"]
    assert info["minor"] == "35" and info["kube"].startswith("v1.35")
    assert (info["hpav2"], info["policy"], info["missing"]) == ("true", "true", "false")
    assert int(info["namespaces"]) >= 2
    first = get_json(cluster, "secret", "caps-pw", "-n", ns)["data"]["password"]
    cluster.helm("upgrade", "caps", str(chart), "-n", ns)
    assert get_json(cluster, "secret", "caps-pw", "-n", ns)["data"]["password"] == first


WORKLOAD = textwrap.dedent("""\
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: {{ .Release.Name }}-web}
    spec:
      replicas: 1
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: nginx:{{ .Values.tag }}
            ports: [{containerPort: 80}]
            env:
            {{- range $k, $v := .Values.env }}
            - {name: {{ $k }}, value: {{ $v | quote }}}
            {{- end }}
          {{- if .Values.sidecar }}
          - name: side
            image: busybox
          {{- end }}
    {{- if .Values.hpa }}
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: {{ .Release.Name }}-hpa}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: {{ .Release.Name }}-web}
      minReplicas: 1
      maxReplicas: 3
      metrics:
      - type: Resource
        resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
    {{- end }}
    ---
    apiVersion: rbac.authorization.k8s.io/v1
    kind: ClusterRole
    metadata: {name: {{ .Release.Namespace }}-{{ .Release.Name }}-reader}
    rules: [{apiGroups: [""], resources: [pods], verbs: [get]}]
    """)


@pytest.mark.parametrize("server_side", ["true", "false"])
def test_upgrade_removes_list_items_and_resources(cluster: Cluster, ns: str, tmp_path: Path,
                                                  server_side: str) -> None:
    chart = write_chart(tmp_path, "wl", {
        "templates/wl.yaml": WORKLOAD,
        "values.yaml": "tag: '1.25'\nsidecar: true\nhpa: true\nenv: {A: '1', B: '2'}\n"})
    cluster.helm("install", "wl", str(chart), "-n", ns, f"--server-side={server_side}")
    dep = get_json(cluster, "deploy", "wl-web", "-n", ns)
    assert [c["name"] for c in dep["spec"]["template"]["spec"]["containers"]] == ["web", "side"]
    assert get_json(cluster, "hpa.v2.autoscaling", "wl-hpa", "-n",
                    ns)["spec"]["maxReplicas"] == 3
    cluster.kubectl("get", "clusterrole", f"{ns}-wl-reader")
    cluster.helm("upgrade", "wl", str(chart), "-n", ns, f"--server-side={server_side}",
                 "--set", "sidecar=false,hpa=false,tag=1.26", "--set", "env.B=null")
    dep = get_json(cluster, "deploy", "wl-web", "-n", ns)
    containers = dep["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in containers] == ["web"]
    assert containers[0]["image"] == "nginx:1.26"
    assert containers[0]["env"] == [{"name": "A", "value": "1"}]
    assert dep["metadata"]["generation"] == 2
    assert cluster.kubectl("get", "hpa", "wl-hpa", "-n", ns, check=False).returncode != 0
    cluster.helm("uninstall", "wl", "-n", ns)
    assert cluster.kubectl("get", "clusterrole", f"{ns}-wl-reader",
                           check=False).returncode != 0


def test_configmap_storage_driver_and_labels(cluster: Cluster, ns: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELM_DRIVER", "configmap")
    chart = write_chart(tmp_path, "drv", {"templates/cm.yaml": CONFIG})
    cluster.helm("install", "drv", str(chart), "-n", ns, "--labels", "team=blue")
    cluster.helm("upgrade", "drv", str(chart), "-n", ns, "--set", "greeting=x")
    stored = get_json(cluster, "cm", "-n", ns, "-l", "owner=helm,name=drv")["items"]
    assert sorted(i["metadata"]["name"] for i in stored) == \
        ["sh.helm.release.v1.drv.v1", "sh.helm.release.v1.drv.v2"]
    listed = helm_json(cluster, "list", "-n", ns, "--selector", "team=blue")
    assert [r["name"] for r in listed] == ["drv"]
    assert helm_json(cluster, "list", "-n", ns, "--selector", "team=red") == []
    cluster.helm("uninstall", "drv", "-n", ns)
    assert get_json(cluster, "cm", "-n", ns, "-l", "owner=helm")["items"] == []


def test_uninstall_cascade_foreground(cluster: Cluster, ns: str, tmp_path: Path) -> None:
    chart = write_chart(tmp_path, "fg", {"templates/cm.yaml": CONFIG,
                                         "templates/wl.yaml": WORKLOAD,
                                         "values.yaml": "tag: '1'\nenv: {}\n"})
    cluster.helm("install", "fg", str(chart), "-n", ns)
    cluster.helm("uninstall", "fg", "-n", ns, "--cascade=foreground", "--wait",
                 "--timeout=30s")
    left = cluster.kubectl("get", "cm,deploy", "-n", ns, "-o", "name").stdout.split()
    assert [n for n in left if "fg-" in n] == []
