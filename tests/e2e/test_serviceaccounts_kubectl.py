"""ServiceAccounts in pods as a user meets them: real kubectl against `kubelite server
--simulated-nodes 1 --root-ca-file F`. Every namespace has its `default` account and
its kube-root-ca.crt bundle, a Deployment's pods run with the kube-api-access token
volume, and a pod naming a missing account is refused in upstream's words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.certificates import make_ca_pem
from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for

MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"


@pytest.fixture(scope="module")
def ca_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.crt"
    path.write_text(make_ca_pem())
    return path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, ca_file: Path) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("serviceaccounts") / "cluster", 1,
                           "--root-ca-file", str(ca_file)) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def test_every_namespace_gets_the_ca_bundle(cluster: Cluster, ns: str, ca_file: Path) -> None:
    def bundle() -> str:
        return cluster.kubectl("get", "configmap", "kube-root-ca.crt", "-n", ns, "-o",
                               "jsonpath={.data.ca\\.crt}", check=False).stdout
    assert wait_for(bundle) == ca_file.read_text()
    cluster.kubectl("delete", "configmap", "kube-root-ca.crt", "-n", ns)
    assert wait_for(bundle) == ca_file.read_text()


def test_a_deployments_pods_run_with_the_token_volume(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=2")
    out = cluster.kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=60s",
                          timeout=90).stdout
    assert out.strip().endswith('deployment "web" successfully rolled out'), out
    pods = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-l", "app=web",
                                      "-o", "json").stdout)["items"]
    assert len(pods) == 2
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        spec = pod["spec"]
        assert spec["serviceAccountName"] == "default"
        [volume] = spec["volumes"]
        assert volume["name"].startswith("kube-api-access-")
        sources = volume["projected"]["sources"]
        assert sources[0] == {"serviceAccountToken": {"expirationSeconds": 3607,
                                                      "path": "token"}}
        assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
        assert spec["containers"][0]["volumeMounts"] == [
            {"name": volume["name"], "readOnly": True, "mountPath": MOUNT_PATH}]
    described = cluster.kubectl("describe", "pod", "-n", ns, pods[0]["metadata"]["name"]).stdout
    assert "Projected (a volume that contains injected data from multiple sources)" in described
    assert "ConfigMapName:           kube-root-ca.crt" in described


def test_a_pod_naming_a_missing_account_is_refused(cluster: Cluster, ns: str) -> None:
    result = cluster.kubectl("run", "p", "-n", ns, "--image=nginx",
                             "--overrides", '{"spec": {"serviceAccountName": "ghost"}}',
                             check=False)
    assert result.returncode == 1
    assert (f'pods "p" is forbidden: error looking up service account {ns}/ghost: '
            f'serviceaccount "ghost" not found') in result.stderr, result.stderr


def test_automount_false_leaves_the_pod_without_a_token(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "serviceaccount", "robot", "-n", ns)
    cluster.kubectl("patch", "serviceaccount", "robot", "-n", ns, "-p",
                    '{"automountServiceAccountToken": false}')
    cluster.kubectl("run", "p", "-n", ns, "--image=nginx",
                    "--overrides", '{"spec": {"serviceAccountName": "robot"}}')
    spec = json.loads(cluster.kubectl("get", "pod", "p", "-n", ns, "-o", "json").stdout)["spec"]
    assert "volumes" not in spec and "volumeMounts" not in spec["containers"][0]
