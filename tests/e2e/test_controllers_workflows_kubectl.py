"""The controller manager's user stories end to end: real kubectl against `kubelite
server` with three simulated nodes. A Deployment of ten rolls within its surge and
unavailability limits at every step (a watch sees each one) and rolls back; deleting a
Deployment with --cascade=orphan leaves its ReplicaSets and pods, and it adopts them
when created again; an Indexed Job finishes; a CronJob fires at its scheduled time;
custom Endpoints are mirrored. StatefulSets and DaemonSets: test_controllers_sets_kubectl."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster import Cluster, call, namespace_for_test, simulated_cluster, wait_for

Obj = dict[str, Any]
EXIT_SOON = {"sim.kubelite.io/exit-after": "200ms"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("workflows") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


class Watch:
    """Every event of a collection between its creation and `close()`: the watch is
    opened at close from the resourceVersion listed at creation, so the server replays
    each change in order, and it ends after a second of quiet (timeoutSeconds)."""

    def __init__(self, cluster: Cluster, path: str) -> None:
        code, listed = call(cluster, "GET", path)
        assert code == 200, listed
        self.cluster = cluster
        self.url = (f"{cluster.url}{path}?watch=1&timeoutSeconds=1"
                    f"&resourceVersion={listed['metadata']['resourceVersion']}")
        self.events: list[tuple[str, Obj]] = []

    def close(self) -> None:
        with self.cluster.open(self.url, timeout=30) as response:
            for line in response:
                event = json.loads(line)
                self.events.append((event["type"], event["object"]))

    def states(self) -> Iterator[dict[str, Obj]]:
        """The collection after each event, by name."""
        latest: dict[str, Obj] = {}
        for type_, obj in list(self.events):
            if type_ == "DELETED":
                latest.pop(obj["metadata"]["name"], None)
            elif type_ in ("ADDED", "MODIFIED"):
                latest[obj["metadata"]["name"]] = obj
            yield dict(latest)


def images(cluster: Cluster, ns: str, app: str) -> list[str]:
    out = cluster.kubectl("get", "pods", "-n", ns, "-l", f"app={app}", "-o",
                          "jsonpath={.items[*].spec.containers[0].image}").stdout
    return sorted(out.split())


def rollout_status(cluster: Cluster, ns: str, what: str) -> str:
    return cluster.kubectl("rollout", "status", "-n", ns, what, "--timeout=90s",
                           timeout=120).stdout


def history(cluster: Cluster, ns: str, what: str) -> list[str]:
    out = cluster.kubectl("rollout", "history", "-n", ns, what).stdout
    return [line.split()[0] for line in out.splitlines()[2:] if line.strip()]


def test_a_deployment_of_ten_rolls_within_its_limits_and_back(cluster: Cluster, ns: str) -> None:
    deployment = json.loads(cluster.kubectl(
        "create", "deployment", "web", "-n", ns, "--image=nginx", "--replicas=10",
        "--dry-run=client", "-o", "json").stdout)
    deployment["spec"]["strategy"] = {"type": "RollingUpdate",
                                      "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 2}}
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(deployment))
    out = rollout_status(cluster, ns, "deployment/web")
    assert 'deployment "web" successfully rolled out' in out, out
    row = cluster.kubectl("get", "deploy", "web", "-n", ns, "--no-headers").stdout.split()
    assert row[:4] == ["web", "10/10", "10", "10"], row

    watch = Watch(cluster, f"/apis/apps/v1/namespaces/{ns}/replicasets")
    try:
        cluster.kubectl("set", "image", "-n", ns, "deployment/web", "nginx=nginx:2")
        out = rollout_status(cluster, ns, "deployment/web")
        assert 'deployment "web" successfully rolled out' in out, out
        assert wait_for(lambda: images(cluster, ns, "web") == ["nginx:2"] * 10), \
            images(cluster, ns, "web")
    finally:
        watch.close()
    steps = [(sum(rs["spec"]["replicas"] for rs in state.values()),
              sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in state.values()))
             for state in watch.states() if len(state) == 2]
    assert steps, watch.events
    assert 10 < max(wanted for wanted, _ in steps) <= 10 + 3  # surged, never past maxSurge
    assert min(available for _, available in steps) >= 10 - 2  # never past maxUnavailable

    out = cluster.kubectl("rollout", "undo", "-n", ns, "deployment/web").stdout
    assert out.strip() == "deployment.apps/web rolled back"
    rollout_status(cluster, ns, "deployment/web")
    assert wait_for(lambda: images(cluster, ns, "web") == ["nginx"] * 10), \
        images(cluster, ns, "web")
    assert history(cluster, ns, "deployment/web") == ["2", "3"]


def test_deleting_a_deployment_with_cascade_orphan_leaves_its_replicasets_and_pods(
        cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "deployment", "keep", "-n", ns, "--image=nginx", "--replicas=2")
    rollout_status(cluster, ns, "deployment/keep")
    cluster.kubectl("delete", "deployment", "keep", "-n", ns, "--cascade=orphan")
    assert cluster.kubectl("get", "deploy", "keep", "-n", ns, check=False).returncode != 0

    def orphaned_rs() -> list[Obj]:
        items: list[Obj] = json.loads(cluster.kubectl(
            "get", "rs", "-n", ns, "-l", "app=keep", "-o", "json").stdout)["items"]
        return items if len(items) == 1 and not items[0]["metadata"].get(
            "ownerReferences") else []
    (rs,) = wait_for(orphaned_rs)
    pods = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-l", "app=keep", "-o",
                                      "json").stdout)["items"]
    assert len(pods) == 2
    assert {p["metadata"]["ownerReferences"][0]["uid"] for p in pods} == {rs["metadata"]["uid"]}

    # created again, it adopts the ReplicaSet: no new ReplicaSet, no new pod
    cluster.kubectl("create", "deployment", "keep", "-n", ns, "--image=nginx", "--replicas=2")
    uid = json.loads(cluster.kubectl("get", "deploy", "keep", "-n", ns, "-o", "json").stdout
                     )["metadata"]["uid"]

    def adopted() -> list[Obj]:
        items: list[Obj] = json.loads(cluster.kubectl(
            "get", "rs", "-n", ns, "-l", "app=keep", "-o", "json").stdout)["items"]
        return items if [[r["uid"] for r in i["metadata"].get("ownerReferences") or ()]
                         for i in items] == [[uid]] else []
    (again,) = wait_for(adopted)
    assert again["metadata"]["uid"] == rs["metadata"]["uid"]
    rollout_status(cluster, ns, "deployment/keep")
    after = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-l", "app=keep", "-o",
                                       "json").stdout)["items"]
    assert {p["metadata"]["uid"] for p in after} == {p["metadata"]["uid"] for p in pods}


def test_an_indexed_job_finishes(cluster: Cluster, ns: str) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "idx"},
           "spec": {"completions": 4, "parallelism": 2, "completionMode": "Indexed",
                    "template": {"metadata": {"annotations": EXIT_SOON},
                                 "spec": {"restartPolicy": "Never", "containers": [
                                     {"name": "c", "image": "busybox"}]}}}}
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(job))
    cluster.kubectl("wait", "-n", ns, "--for=condition=complete", "job/idx", "--timeout=60s",
                    timeout=90)
    done = json.loads(cluster.kubectl("get", "job", "idx", "-n", ns, "-o", "json").stdout)
    assert done["status"]["succeeded"] == 4
    assert done["status"]["completedIndexes"] == "0-3"
    row = cluster.kubectl("get", "job", "idx", "-n", ns, "--no-headers").stdout.split()
    assert row[:3] == ["idx", "Complete", "4/4"], row
    pods = json.loads(cluster.kubectl("get", "pods", "-n", ns, "-l", "job-name=idx", "-o",
                                      "json").stdout)["items"]
    indexes = {p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
               for p in pods}
    assert indexes == {"0", "1", "2", "3"}


def parse_time(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)


def test_a_cronjob_fires_at_its_scheduled_time(cluster: Cluster, ns: str) -> None:
    # @every keeps the wait short; the Job's name and scheduled-timestamp say which
    # scheduled time it is for, and it was made no earlier than that time
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "tick"},
               "spec": {"schedule": "@every 2s", "concurrencyPolicy": "Forbid",
                        "jobTemplate": {"spec": {"template": {
                            "metadata": {"annotations": EXIT_SOON},
                            "spec": {"restartPolicy": "Never", "containers": [
                                {"name": "c", "image": "busybox"}]}}}}}}
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(cronjob))
    created = parse_time(json.loads(cluster.kubectl(
        "get", "cronjob", "tick", "-n", ns, "-o", "json").stdout)["metadata"]["creationTimestamp"])

    def jobs() -> list[Obj]:
        items: list[Obj] = json.loads(cluster.kubectl("get", "jobs", "-n", ns, "-o",
                                                      "json").stdout)["items"]
        return items
    first, *_ = wait_for(jobs)
    scheduled = parse_time(first["metadata"]["annotations"][
        "batch.kubernetes.io/cronjob-scheduled-timestamp"])
    assert scheduled == created + datetime.timedelta(seconds=2)
    assert parse_time(first["metadata"]["creationTimestamp"]) >= scheduled
    minutes = int(scheduled.timestamp()) // 60
    assert first["metadata"]["name"] == f"tick-{minutes}"
    cluster.kubectl("wait", "-n", ns, "--for=condition=complete", f"job/{first['metadata']['name']}",
                    "--timeout=60s", timeout=90)
    status = json.loads(cluster.kubectl("get", "cronjob", "tick", "-n", ns, "-o",
                                        "json").stdout).get("status") or {}
    assert wait_for(lambda: (json.loads(cluster.kubectl(
        "get", "cronjob", "tick", "-n", ns, "-o", "json").stdout).get("status") or {}
    ).get("lastSuccessfulTime")), status


def test_a_deployment_goes_back_to_a_chosen_revision(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "deployment", "app", "-n", ns, "--image=app:1", "--replicas=2")
    rollout_status(cluster, ns, "deployment/app")
    for image in ("app:2", "app:3"):
        cluster.kubectl("set", "image", "deployment/app", "-n", ns, f"app={image}")
        rollout_status(cluster, ns, "deployment/app")
    assert history(cluster, ns, "deployment/app") == ["1", "2", "3"]
    detail = cluster.kubectl("rollout", "history", "deployment/app", "-n", ns,
                             "--revision=2").stdout
    assert "app:2" in detail, detail
    cluster.kubectl("rollout", "undo", "deployment/app", "-n", ns, "--to-revision=1")
    rollout_status(cluster, ns, "deployment/app")
    assert wait_for(lambda: images(cluster, ns, "app") == ["app:1"] * 2), \
        images(cluster, ns, "app")
    assert history(cluster, ns, "deployment/app") == ["2", "3", "4"]


def test_rollout_status_reports_a_deployment_past_its_progress_deadline(
        cluster: Cluster, ns: str) -> None:
    deployment = json.loads(cluster.kubectl(
        "create", "deployment", "bad", "-n", ns, "--image=nginx", "--replicas=1",
        "--dry-run=client", "-o", "json").stdout)
    deployment["spec"]["progressDeadlineSeconds"] = 1
    # no node has room for its pod, so it never becomes available
    deployment["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "1000"}}
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(deployment))
    out = cluster.kubectl("rollout", "status", "deployment/bad", "-n", ns, "--timeout=60s",
                          check=False, timeout=90)
    assert out.returncode != 0
    assert 'deployment "bad" exceeded its progress deadline' in out.stderr, out
    reason = cluster.kubectl("get", "deploy", "bad", "-n", ns, "-o",
                             "jsonpath={.status.conditions[?(@.type=='Progressing')].reason}")
    assert reason.stdout == "ProgressDeadlineExceeded"


def test_custom_endpoints_of_a_selectorless_service_are_mirrored(
        cluster: Cluster, ns: str) -> None:
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
               "spec": {"ports": [{"name": "pg", "port": 5432}]}}
    endpoints = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "ext"},
                 "subsets": [{"addresses": [{"ip": "192.0.2.10"}, {"ip": "192.0.2.11"}],
                              "ports": [{"name": "pg", "port": 5432}]}]}
    cluster.kubectl("apply", "-n", ns, "-f", "-",
                    input=json.dumps({"apiVersion": "v1", "kind": "List",
                                      "items": [service, endpoints]}))

    def mirrored() -> list[str]:
        return cluster.kubectl(
            "get", "endpointslices", "-n", ns, "-l",
            "endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io",
            "--no-headers").stdout.split()
    row = wait_for(mirrored)
    assert row[0].startswith("ext-") and row[1:4] == ["IPv4", "5432", "192.0.2.10,192.0.2.11"], row
    cluster.kubectl("delete", "endpoints", "ext", "-n", ns)
    assert wait_for(lambda: not mirrored()), mirrored()


def test_a_job_deleted_with_cascade_orphan_leaves_its_pods_free_to_go(
        cluster: Cluster, ns: str) -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "long"},
           "spec": {"parallelism": 2, "completions": 2,
                    "template": {"metadata": {"annotations": {"sim.kubelite.io/exit-after": "1h"}},
                                 "spec": {"restartPolicy": "Never", "containers": [
                                     {"name": "c", "image": "busybox"}]}}}}
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(job))

    def pods() -> list[Obj]:
        items: list[Obj] = json.loads(cluster.kubectl(
            "get", "pods", "-n", ns, "-l", "job-name=long", "-o", "json").stdout)["items"]
        return items
    assert wait_for(lambda: len(pods()) == 2 and all(
        p["metadata"].get("finalizers") for p in pods())), pods()
    cluster.kubectl("delete", "job", "long", "-n", ns, "--cascade=orphan")
    # the pods stay, with neither the Job's reference nor its tracking finalizer
    assert wait_for(lambda: len(pods()) == 2 and not any(
        p["metadata"].get("ownerReferences") or p["metadata"].get("finalizers")
        for p in pods())), pods()
    cluster.kubectl("delete", "pods", "-n", ns, "-l", "job-name=long", "--timeout=30s")
    assert pods() == []
