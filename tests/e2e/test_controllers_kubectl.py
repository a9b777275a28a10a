"""The controller manager as a user meets it: real kubectl against `kubelite server` with
three simulated nodes, and `kubelite controller-manager` run on its own."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kubelite.cli.main import build_parser
from kubelite.cli.server import server_controllers
from kubelite.controllers.names import LOOP_NAMES
from tests.cluster import Cluster, ROOT, namespace_for_test, ready_nodes, simulated_cluster, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("controllers") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def replicaset(name: str, replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}}


def get_rs(cluster: Cluster, ns: str, name: str) -> list[str]:
    """The columns of `kubectl get rs NAME` (NAME DESIRED CURRENT READY AGE)."""
    out = cluster.kubectl("get", "rs", "-n", ns, name, "--no-headers").stdout.split()
    return out[:4]


def test_scale_and_describe_a_replicaset(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(replicaset("web", 3)))
    assert wait_for(lambda: get_rs(cluster, ns, "web") == ["web", "3", "3", "3"]), \
        get_rs(cluster, ns, "web")
    cluster.kubectl("scale", "-n", ns, "rs/web", "--replicas=1")
    assert wait_for(lambda: get_rs(cluster, ns, "web") == ["web", "1", "1", "1"]), \
        get_rs(cluster, ns, "web")

    def described() -> str:
        out = cluster.kubectl("describe", "rs", "-n", ns, "web").stdout
        return out if out.count("SuccessfulDelete") == 2 else ""

    out = wait_for(described)
    assert out, cluster.kubectl("describe", "rs", "-n", ns, "web").stdout
    assert "1 current / 1 desired" in out
    assert "1 Running / 0 Waiting / 0 Succeeded / 0 Failed" in out
    assert out.count("SuccessfulCreate") == 3 and "replicaset-controller" in out
    pods = cluster.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o",
                           "jsonpath={.items[*].metadata.ownerReferences[0].name}").stdout
    assert pods == "web"


def test_a_new_namespace_has_a_default_service_account(cluster: Cluster, ns: str) -> None:
    assert wait_for(lambda: cluster.kubectl("get", "sa", "-n", ns, "default",
                                            check=False).returncode == 0)


@pytest.mark.parametrize("disabled, controllers", [
    pytest.param([], ["*"], id="all-by-default"),
    pytest.param(["replicaset", "scheduler"], ["*", "-replicaset"], id="one-loop-off"),
    pytest.param(["controller-manager"], None, id="manager-off"),
])
def test_server_disable_turns_loops_off(disabled: list[str],
                                        controllers: list[str] | None) -> None:
    flags = [arg for name in disabled for arg in ("--disable", name)]
    args = build_parser().parse_args(["server", *flags])
    assert server_controllers(args.disable) == controllers


@pytest.mark.parametrize("loop", LOOP_NAMES)
def test_every_loop_can_be_disabled_by_name(loop: str) -> None:
    args = build_parser().parse_args(["server", "--disable", loop])
    assert server_controllers(args.disable) == ["*", f"-{loop}"]


def test_a_standalone_controller_manager_runs_the_loops_for_a_server_without_them(
        tmp_path: Path) -> None:
    c = Cluster(tmp_path / "cluster",
                extra_args=("--disable", "controller-manager", "--simulated-nodes", "1"))
    c.start()
    manager = None
    try:
        assert wait_for(lambda: ready_nodes(c) == {"sim-0": "Ready"}), ready_nodes(c)
        c.kubectl("create", "-f", "-", input=json.dumps(replicaset("web", 2)))
        assert get_rs(c, "default", "web") == ["web", "2", "0", "0"]
        manager = subprocess.Popen(
            [sys.executable, "-m", "kubelite.cli.main", "controller-manager", "--kubeconfig",
             c.kubeconfig, "--controllers", "*,-horizontalpodautoscaling"], cwd=str(ROOT),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert wait_for(lambda: get_rs(c, "default", "web") == ["web", "2", "2", "2"]), \
            get_rs(c, "default", "web")
        manager.send_signal(signal.SIGTERM)
        assert manager.wait(timeout=15) == 0
        holder = c.kubectl("get", "lease", "-n", "kube-system", "kube-controller-manager",
                           "-o", "jsonpath={.spec.holderIdentity}").stdout
        assert holder == ""
    finally:
        if manager is not None and manager.poll() is None:
            manager.kill()
            manager.wait()
        c.stop()


def test_an_unknown_controller_is_refused() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "controller-manager", "--kubeconfig",
         "/nonexistent", "--controllers", "*,-deploymnet"], cwd=str(ROOT),
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "'deploymnet' is not in the list of known controllers" in result.stderr
