"""StatefulSets and DaemonSets as users meet them: real kubectl against `kubelite server`
with three simulated nodes. A StatefulSet scales up and down in order (a watch sees
each pod change); both roll back and restart through `kubectl rollout`; both, deleted
with --cascade=orphan and created again, take their pods back without making or
rolling one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for
from tests.e2e.test_controllers_workflows_kubectl import Watch, history, images, rollout_status

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("sets") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def statefulset(name: str, replicas: int, image: str = "nginx") -> Obj:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": name,
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}}}}


def is_ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or ())


def test_a_statefulset_scales_up_and_down_in_order(cluster: Cluster, ns: str) -> None:
    watch = Watch(cluster, f"/api/v1/namespaces/{ns}/pods")
    try:
        cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(statefulset("db", 3)))
        rollout_status(cluster, ns, "sts/db")
        cluster.kubectl("scale", "sts/db", "-n", ns, "--replicas=1")
        assert wait_for(lambda: cluster.kubectl(
            "get", "pods", "-n", ns, "-o", "name").stdout.split() == ["pod/db-0"])
    finally:
        watch.close()
    added = [obj["metadata"]["name"] for type_, obj in watch.events if type_ == "ADDED"]
    assert added == ["db-0", "db-1", "db-2"]
    for earlier, later in (("db-0", "db-1"), ("db-1", "db-2")):
        at = next(i for i, (t, o) in enumerate(watch.events)
                  if t == "ADDED" and o["metadata"]["name"] == later)
        assert any(o["metadata"]["name"] == earlier and is_ready(o)
                   for _, o in watch.events[:at]), f"{later} made before {earlier} was ready"
    marked = [o["metadata"]["name"] for t, o in watch.events
              if t != "ADDED" and o["metadata"].get("deletionTimestamp")]
    first_marked = list(dict.fromkeys(marked))
    assert first_marked == ["db-2", "db-1"]
    gone_2 = next(i for i, (t, o) in enumerate(watch.events)
                  if t == "DELETED" and o["metadata"]["name"] == "db-2")
    start_1 = next(i for i, (t, o) in enumerate(watch.events)
                   if o["metadata"]["name"] == "db-1" and o["metadata"].get("deletionTimestamp"))
    assert gone_2 < start_1  # db-1 goes only once db-2 is gone


def test_a_statefulset_rolls_back_and_restarts_through_kubectl_rollout(
        cluster: Cluster, ns: str) -> None:
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(statefulset("web", 2)))
    rollout_status(cluster, ns, "sts/web")
    cluster.kubectl("set", "image", "sts/web", "-n", ns, "app=nginx:2")
    rollout_status(cluster, ns, "sts/web")
    assert wait_for(lambda: images(cluster, ns, "web") == ["nginx:2"] * 2)
    assert history(cluster, ns, "sts/web") == ["1", "2"]

    out = cluster.kubectl("rollout", "undo", "sts/web", "-n", ns).stdout
    assert out.strip() == "statefulset.apps/web rolled back", out
    rollout_status(cluster, ns, "sts/web")
    assert wait_for(lambda: images(cluster, ns, "web") == ["nginx"] * 2), \
        images(cluster, ns, "web")
    assert history(cluster, ns, "sts/web") == ["2", "3"]

    before = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o",
                                        "json").stdout)["items"]
    cluster.kubectl("rollout", "restart", "sts/web", "-n", ns)
    rollout_status(cluster, ns, "sts/web")

    def replaced() -> bool:
        now = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-l", "app=web", "-o",
                                         "json").stdout)["items"]
        return len(now) == 2 and not {p["metadata"]["uid"] for p in now} & \
            {p["metadata"]["uid"] for p in before}
    assert wait_for(replaced)


def test_a_statefulset_recreated_after_cascade_orphan_adopts_its_pods(
        cluster: Cluster, ns: str) -> None:
    manifest = json.dumps(statefulset("kv", 2))
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    rollout_status(cluster, ns, "sts/kv")

    def pods() -> dict[str, Obj]:
        items = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-l", "app=kv", "-o",
                                           "json").stdout)["items"]
        return {p["metadata"]["name"]: p for p in items}
    before = pods()
    cluster.kubectl("delete", "sts", "kv", "-n", ns, "--cascade=orphan")
    assert wait_for(lambda: len(pods()) == 2 and not any(
        p["metadata"].get("ownerReferences") for p in pods().values())), pods()

    cluster.kubectl("apply", "-n", ns, "-f", "-", input=manifest)
    uid = json.loads(cluster.kubectl("get", "sts", "kv", "-n", ns, "-o", "json").stdout
                     )["metadata"]["uid"]
    assert wait_for(lambda: all(
        [r["uid"] for r in p["metadata"].get("ownerReferences") or ()] == [uid]
        for p in pods().values())), pods()
    rollout_status(cluster, ns, "sts/kv")
    assert {n: p["metadata"]["uid"] for n, p in pods().items()} == \
        {n: p["metadata"]["uid"] for n, p in before.items()}  # none made anew
    described = cluster.kubectl("describe", "sts", "kv", "-n", ns).stdout
    assert "SuccessfulCreate" not in described, described


def test_a_daemonset_rolls_back_and_restarts_through_kubectl_rollout(
        cluster: Cluster, ns: str) -> None:
    daemonset = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                 "spec": {"selector": {"matchLabels": {"app": "agent"}},
                          "template": {"metadata": {"labels": {"app": "agent"}},
                                       "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}}
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=json.dumps(daemonset))
    rollout_status(cluster, ns, "ds/agent")
    cluster.kubectl("set", "image", "ds/agent", "-n", ns, "a=agent:2")
    out = rollout_status(cluster, ns, "ds/agent")
    assert 'daemon set "agent" successfully rolled out' in out, out
    assert wait_for(lambda: images(cluster, ns, "agent") == ["agent:2"] * 3)
    assert history(cluster, ns, "ds/agent") == ["1", "2"]
    detail = cluster.kubectl("rollout", "history", "ds/agent", "-n", ns, "--revision=1").stdout
    assert "agent:1" in detail, detail

    out = cluster.kubectl("rollout", "undo", "ds/agent", "-n", ns, "--to-revision=1").stdout
    assert out.strip() == "daemonset.apps/agent rolled back", out
    rollout_status(cluster, ns, "ds/agent")
    assert wait_for(lambda: images(cluster, ns, "agent") == ["agent:1"] * 3), \
        images(cluster, ns, "agent")
    assert history(cluster, ns, "ds/agent") == ["2", "3"]

    cluster.kubectl("rollout", "restart", "ds/agent", "-n", ns)
    rollout_status(cluster, ns, "ds/agent")
    assert history(cluster, ns, "ds/agent") == ["2", "3", "4"]


def test_a_daemonset_recreated_after_cascade_orphan_adopts_its_pods(
        cluster: Cluster, ns: str) -> None:
    daemonset = json.dumps({
        "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "node-agent"},
        "spec": {"selector": {"matchLabels": {"app": "node-agent"}},
                 "template": {"metadata": {"labels": {"app": "node-agent"}},
                              "spec": {"containers": [{"name": "a", "image": "agent:1"}]}}}})
    cluster.kubectl("apply", "-n", ns, "-f", "-", input=daemonset)
    rollout_status(cluster, ns, "ds/node-agent")

    def pods() -> dict[str, Obj]:
        items = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-l", "app=node-agent",
                                           "-o", "json").stdout)["items"]
        return {p["metadata"]["name"]: p for p in items}
    before = pods()
    assert len(before) == 3
    cluster.kubectl("delete", "ds", "node-agent", "-n", ns, "--cascade=orphan")
    assert wait_for(lambda: len(pods()) == 3 and not any(
        p["metadata"].get("ownerReferences") for p in pods().values())), pods()

    cluster.kubectl("apply", "-n", ns, "-f", "-", input=daemonset)
    uid = json.loads(cluster.kubectl("get", "ds", "node-agent", "-n", ns, "-o", "json").stdout
                     )["metadata"]["uid"]
    assert wait_for(lambda: all(
        [r["uid"] for r in p["metadata"].get("ownerReferences") or ()] == [uid]
        for p in pods().values())), pods()
    rollout_status(cluster, ns, "ds/node-agent")
    assert {n: p["metadata"]["uid"] for n, p in pods().items()} == \
        {n: p["metadata"]["uid"] for n, p in before.items()}  # none made anew or rolled
    revisions = json.loads(cluster.kubectl("get", "controllerrevisions", "-n", ns, "-o",
                                           "json").stdout)["items"]
    assert [[r["uid"] for r in rev["metadata"].get("ownerReferences") or ()]
            for rev in revisions] == [[uid]]
