"""Cascading deletion as a user meets it: real kubectl against `kubelite server` with
simulated nodes, whose controller manager runs the garbage collector."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from kubelite.cli.main import build_parser
from kubelite.cli.server import runs_garbage_collector, server_controllers
from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for
from tests.e2e.test_controllers_kubectl import get_rs, replicaset


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("gc") / "cluster", 2) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def running_rs(cluster: Cluster, ns: str, name: str, replicas: int) -> None:
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(replicaset(name, replicas)))
    want = [name, str(replicas), str(replicas), str(replicas)]
    assert wait_for(lambda: get_rs(cluster, ns, name) == want), get_rs(cluster, ns, name)


def pods(cluster: Cluster, ns: str, app: str) -> list[dict[str, object]]:
    out = cluster.kubectl("get", "pods", "-n", ns, "-l", f"app={app}", "-o", "json").stdout
    items: list[dict[str, object]] = json.loads(out)["items"]
    return items


def test_kubectl_delete_rs_removes_its_pods(cluster: Cluster, ns: str) -> None:
    running_rs(cluster, ns, "bg", 2)
    cluster.kubectl("delete", "-n", ns, "rs", "bg")  # background cascade, the default
    assert wait_for(lambda: pods(cluster, ns, "bg") == []), pods(cluster, ns, "bg")


def test_cascade_orphan_leaves_the_pods_without_their_owner(cluster: Cluster, ns: str) -> None:
    running_rs(cluster, ns, "or", 2)
    cluster.kubectl("delete", "-n", ns, "rs", "or", "--cascade=orphan")
    assert cluster.kubectl("get", "rs", "-n", ns, "or", check=False).returncode != 0
    left = pods(cluster, ns, "or")
    assert len(left) == 2
    assert [p["metadata"].get("ownerReferences") for p in left] == [None, None]  # type: ignore[union-attr]


def test_cascade_foreground_deletes_the_pods_before_the_rs(cluster: Cluster, ns: str) -> None:
    running_rs(cluster, ns, "fg", 2)
    # kubectl waits until the ReplicaSet is gone, which the collector allows only once
    # the pods that block it (blockOwnerDeletion) are deleted
    cluster.kubectl("delete", "-n", ns, "rs", "fg", "--cascade=foreground")
    assert cluster.kubectl("get", "rs", "-n", ns, "fg", check=False).returncode != 0
    assert pods(cluster, ns, "fg") == []


@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_kubectl_delete_deployment_removes_its_replicasets_and_pods(
        cluster: Cluster, ns: str, cascade: str) -> None:
    cluster.kubectl("create", "-n", ns, "deployment", "web", "--image=nginx", "--replicas=2")
    assert wait_for(lambda: len(pods(cluster, ns, "web")) == 2), pods(cluster, ns, "web")
    assert cluster.kubectl("get", "rs", "-n", ns, "-l", "app=web", "-o", "name").stdout
    cluster.kubectl("delete", "-n", ns, "deployment", "web", f"--cascade={cascade}")
    if cascade == "foreground":  # kubectl returned once the Deployment went, which was last
        assert pods(cluster, ns, "web") == []
    assert wait_for(lambda: cluster.kubectl("get", "rs,pods", "-n", ns, "-l", "app=web",
                                            "-o", "name").stdout == "")


@pytest.mark.parametrize("disabled, collects", [
    pytest.param([], True, id="in-process-manager"),
    pytest.param(["garbagecollector"], False, id="collector-off"),
    pytest.param(["controller-manager"], False, id="manager-off"),
    pytest.param(["replicaset"], True, id="other-loop-off"),
])
def test_the_server_adds_deletion_finalizers_only_when_it_runs_the_collector(
        disabled: list[str], collects: bool) -> None:
    args = build_parser().parse_args(
        ["server", *[arg for name in disabled for arg in ("--disable", name)]])
    assert runs_garbage_collector(server_controllers(args.disable)) is collects
