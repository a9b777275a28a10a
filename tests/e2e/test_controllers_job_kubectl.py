"""Jobs and CronJobs as a user meets them: real kubectl against `kubelite server` with
three simulated nodes, whose pods finish as their `sim.kubelite.io/exit-*` annotations
say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cluster import Cluster, namespace_for_test, simulated_cluster, wait_for

EXIT_SOON = {"sim.kubelite.io/exit-after": "200ms"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with simulated_cluster(tmp_path_factory.mktemp("jobs") / "cluster", 3) as c:
        yield c


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[str]:
    yield from namespace_for_test(cluster, request.node.name)


def get_json(cluster: Cluster, *args: str) -> Any:
    return json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)


def test_kubectl_create_job_and_wait_for_complete(cluster: Cluster, ns: str) -> None:
    # `kubectl create job` makes the Job; the annotation telling the simulated node when
    # its pod exits is added to what kubectl would send
    generated = json.loads(cluster.kubectl(
        "create", "job", "hello", "-n", ns, "--image=busybox", "--dry-run=client", "-o", "json",
        "--", "echo", "hi").stdout)
    generated["spec"]["completions"] = 3
    generated["spec"]["template"]["metadata"]["annotations"] = EXIT_SOON
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(generated))
    cluster.kubectl("wait", "-n", ns, "--for=condition=complete", "job/hello", "--timeout=60s")
    job = get_json(cluster, "job", "hello", "-n", ns)
    assert job["status"]["succeeded"] == 3
    row = cluster.kubectl("get", "job", "hello", "-n", ns, "--no-headers").stdout.split()
    assert row[:3] == ["hello", "Complete", "3/3"]
    pods = get_json(cluster, "pods", "-n", ns, "-l", "job-name=hello")["items"]
    assert len(pods) == 3 and {p["status"]["phase"] for p in pods} == {"Succeeded"}
    described = cluster.kubectl("describe", "job", "hello", "-n", ns).stdout
    assert "Completed" in described and "SuccessfulCreate" in described


def test_a_plain_kubectl_create_job_runs_its_pod(cluster: Cluster, ns: str) -> None:
    cluster.kubectl("create", "job", "forever", "-n", ns, "--image=busybox")
    assert wait_for(lambda: get_json(cluster, "job", "forever", "-n", ns)
                    .get("status", {}).get("ready") == 1)
    pod = get_json(cluster, "pods", "-n", ns, "-l", "job-name=forever")["items"][0]
    assert pod["metadata"]["finalizers"] == ["batch.kubernetes.io/job-tracking"]
    cluster.kubectl("delete", "job", "forever", "-n", ns)


def test_kubectl_create_job_from_a_cronjob(cluster: Cluster, ns: str) -> None:
    cronjob = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
               "spec": {"schedule": "@daily", "suspend": True, "jobTemplate": {"spec": {
                   "template": {"metadata": {"annotations": EXIT_SOON},
                                "spec": {"restartPolicy": "OnFailure", "containers": [
                                    {"name": "c", "image": "busybox"}]}}}}}}
    cluster.kubectl("create", "-n", ns, "-f", "-", input=json.dumps(cronjob))
    row = cluster.kubectl("get", "cronjob", "nightly", "-n", ns, "--no-headers").stdout.split()
    assert row[:6] == ["nightly", "@daily", "<none>", "True", "0", "<none>"]
    cluster.kubectl("create", "job", "manual", "-n", ns, "--from=cronjob/nightly")
    assert wait_for(lambda: "UnexpectedJob" in cluster.kubectl(
        "get", "events", "-n", ns, "--field-selector", "involvedObject.name=nightly").stdout)
    cluster.kubectl("wait", "-n", ns, "--for=condition=complete", "job/manual", "--timeout=60s")
    job = get_json(cluster, "job", "manual", "-n", ns)
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    # a suspended CronJob starts nothing itself, and a manual Job is not in its status
    assert "active" not in get_json(cluster, "cronjob", "nightly", "-n", ns).get("status", {})
