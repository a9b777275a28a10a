"""Deployments as a user meets them: real kubectl against `kubelite server` with three
simulated nodes: create, rollout status, set image, rollout history and undo, pause and
resume, restart, scale."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("deployments") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def get_deploy(cluster: Cluster, ns: str, name: str) -> list[str]:
    """NAME READY UP-TO-DATE AVAILABLE of `kubectl get deploy NAME`."""
    return cluster.kubectl("get", "deploy", "-n", ns, name, "--no-headers").stdout.split()[:4]


def rollout_status(cluster: Cluster, ns: str, name: str) -> str:
    return cluster.kubectl("rollout", "status", "-n", ns, f"deployment/{name}",
                           "--timeout=60s", timeout=90).stdout


def history(cluster: Cluster, ns: str, name: str) -> list[tuple[str, str]]:
    """(REVISION, CHANGE-CAUSE) rows of `kubectl rollout history`."""
    out = cluster.kubectl("rollout", "history", "-n", ns, f"deployment/{name}").stdout
    rows = [line.split(None, 1) for line in out.splitlines()[2:] if line.strip()]
    return [(row[0], row[1].strip() if len(row) > 1 else "") for row in rows]


def images(cluster: Cluster, ns: str, name: str) -> set[str]:
    out = cluster.kubectl("get", "pods", "-n", ns, "-l", f"app={name}", "-o",
                          "jsonpath={.items[*].spec.containers[0].image}").stdout
    return set(out.split())


def test_create_roll_out_set_image_history_and_undo(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=3")
    out = rollout_status(cluster, ns, "web")
    assert out.strip().endswith('deployment "web" successfully rolled out'), out
    assert get_deploy(cluster, ns, "web") == ["web", "3/3", "3", "3"]
    rs = cluster.kubectl("get", "rs", "-n", ns, "--no-headers").stdout.split()
    assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{8,10}", rs[0]) and rs[1:4] == [
        "3", "3", "3"]
    pods = cluster.kubectl("get", "pods", "-n", ns, "--no-headers").stdout.splitlines()
    assert len(pods) == 3 and all(p.split()[0].startswith(rs[0] + "-") and
                                  p.split()[2] == "Running" for p in pods)

    cluster.kubectl("set", "image", "-n", ns, "deployment/web", "nginx=nginx:1.27")
    cluster.kubectl("annotate", "-n", ns, "deployment/web",
                    "kubernetes.io/change-cause=image 1.27")
    out = rollout_status(cluster, ns, "web")
    assert 'deployment "web" successfully rolled out' in out, out
    assert wait_for(lambda: images(cluster, ns, "web") == {"nginx:1.27"}), images(
        cluster, ns, "web")
    assert history(cluster, ns, "web") == [("1", "<none>"), ("2", "image 1.27")]

    described = cluster.kubectl("describe", "deploy", "-n", ns, "web").stdout
    assert "ScalingReplicaSet" in described and "deployment-controller" in described
    assert re.search(r"Progressing\s+True\s+NewReplicaSetAvailable", described), described
    assert re.search(r"Available\s+True\s+MinimumReplicasAvailable", described), described

    out = cluster.kubectl("rollout", "undo", "-n", ns, "deployment/web").stdout
    assert out.strip() == "deployment.apps/web rolled back"
    rollout_status(cluster, ns, "web")
    assert wait_for(lambda: images(cluster, ns, "web") == {"nginx"}), images(cluster, ns, "web")
    assert [rev for rev, _ in history(cluster, ns, "web")] == ["2", "3"]
    assert len(cluster.kubectl("get", "rs", "-n", ns, "--no-headers").stdout.splitlines()) == 2


def test_scale_pause_resume_and_restart(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "deployment", "api", "-n", ns, "--image=nginx", "--replicas=2")
    rollout_status(cluster, ns, "api")
    cluster.kubectl("scale", "-n", ns, "deployment/api", "--replicas=4")
    assert wait_for(lambda: get_deploy(cluster, ns, "api") == ["api", "4/4", "4", "4"]), \
        get_deploy(cluster, ns, "api")

    cluster.kubectl("rollout", "pause", "-n", ns, "deployment/api")
    cluster.kubectl("set", "image", "-n", ns, "deployment/api", "nginx=nginx:2")
    paused = cluster.kubectl("get", "deploy", "-n", ns, "api", "-o",
                             "jsonpath={.status.conditions[?(@.type=='Progressing')].reason}")
    assert wait_for(lambda: cluster.kubectl(
        "get", "deploy", "-n", ns, "api", "-o",
        "jsonpath={.status.conditions[?(@.type=='Progressing')].reason}").stdout
        == "DeploymentPaused"), paused.stdout
    assert images(cluster, ns, "api") == {"nginx"}  # paused: nothing rolled
    cluster.kubectl("rollout", "resume", "-n", ns, "deployment/api")
    rollout_status(cluster, ns, "api")
    assert wait_for(lambda: images(cluster, ns, "api") == {"nginx:2"})

    cluster.kubectl("rollout", "restart", "-n", ns, "deployment/api")
    rollout_status(cluster, ns, "api")
    assert [rev for rev, _ in history(cluster, ns, "api")] == ["1", "2", "3"]
    assert get_deploy(cluster, ns, "api") == ["api", "4/4", "4", "4"]
