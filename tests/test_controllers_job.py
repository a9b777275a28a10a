"""The Job loop against a real in-process API server on SQLite, with the scheduler placing
its pods on simulated nodes that finish them as their `sim.kubelite.io/exit-*`
annotations say. The loop runs with a 50 ms failure back-off instead of 10 s."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.controllers.job import JobLoop
from kubelite.controllers.ttlafterfinished import TTLAfterFinishedLoop
from tests.loops import nodes_and_scheduler, run_loops
from tests.test_scheduler import eventually

Obj = dict[str, Any]
JOBS = "jobs.batch"
NS = "default"


@pytest.fixture
async def loop(client: Client) -> AsyncIterator[JobLoop]:
    async with nodes_and_scheduler(client):
        async with run_loops(client, lambda ctx: JobLoop(ctx, pod_failure_backoff=0.05)) as loops:
            yield loops[0]


def job(name: str, *, exit_after: str = "100ms", exit_code: int = 0, **spec: Any) -> Obj:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {
                "metadata": {"annotations": {"sim.kubelite.io/exit-after": exit_after,
                                             "sim.kubelite.io/exit-code": str(exit_code)}},
                "spec": {"restartPolicy": "Never",
                         "containers": [{"name": "work", "image": "busybox"}]}}, **spec}}


def conditions(obj: Obj) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c.get("reason", ""))
            for c in (obj.get("status") or {}).get("conditions") or ()}


async def finished(client: Client, name: str) -> Obj | None:
    current = await client.get(JOBS, name, namespace=NS)
    found = conditions(current)
    if found.get("Complete", ("",))[0] == "True" or found.get("Failed", ("",))[0] == "True":
        return current
    return None


async def pods_of(client: Client, name: str) -> list[Obj]:
    items: list[Obj] = (await client.list("pods", namespace=NS,
                                          label_selector=f"job-name={name}"))["items"]
    return items


async def events_of(client: Client, name: str) -> list[tuple[str, str]]:
    items = (await client.list("events", namespace=NS))["items"]
    return [(e["reason"], e["message"]) for e in items if e["involvedObject"]["name"] == name]


async def test_five_completions_two_at_a_time_complete(client: Client, loop: JobLoop) -> None:
    await client.create(JOBS, job("five", completions=5, parallelism=2), namespace=NS)
    done = await eventually(lambda: finished(client, "five"))
    status = done["status"]
    assert conditions(done) == {"SuccessCriteriaMet": ("True", "CompletionsReached"),
                                "Complete": ("True", "CompletionsReached")}
    assert (status["succeeded"], status.get("failed", 0), status.get("active", 0),
            status["ready"], status["terminating"]) == (5, 0, 0, 0, 0)
    assert status["uncountedTerminatedPods"] == {}
    assert status["startTime"] <= status["completionTime"]
    pods = await pods_of(client, "five")
    assert len(pods) == 5
    for p in pods:
        assert p["status"]["phase"] == "Succeeded"
        assert not p["metadata"].get("finalizers")  # the tracking finalizer is gone
        assert p["metadata"]["labels"]["batch.kubernetes.io/controller-uid"] == \
            done["metadata"]["uid"]
    await loop.recorder.wait_idle()
    events = await events_of(client, "five")
    assert sorted(r for r, _ in events) == ["Completed"] + ["SuccessfulCreate"] * 5
    assert ("Completed", "Job completed") in events


async def test_indexed_job_completes_every_index(client: Client, loop: JobLoop) -> None:
    await client.create(JOBS, job("idx", completions=5, parallelism=3, completionMode="Indexed"),
                        namespace=NS)
    done = await eventually(lambda: finished(client, "idx"))
    assert done["status"]["completedIndexes"] == "0-4"
    assert done["status"]["succeeded"] == 5
    pods = await pods_of(client, "idx")
    by_index = {p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p
                for p in pods}
    assert sorted(by_index) == ["0", "1", "2", "3", "4"]
    for ix, p in by_index.items():
        assert p["metadata"]["labels"]["batch.kubernetes.io/job-completion-index"] == ix
        assert p["metadata"]["name"].startswith(f"idx-{ix}-")
        assert p["spec"]["hostname"] == f"idx-{ix}"
        assert {"name": "JOB_COMPLETION_INDEX", "valueFrom": {"fieldRef": {
            "apiVersion": "v1",
            "fieldPath": "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}} \
            in p["spec"]["containers"][0]["env"]


async def test_backoff_limit_exceeded_fails_the_job(client: Client, loop: JobLoop) -> None:
    await client.create(JOBS, job("flaky", exit_code=1, backoffLimit=1), namespace=NS)
    done = await eventually(lambda: finished(client, "flaky"))
    assert conditions(done) == {"FailureTarget": ("True", "BackoffLimitExceeded"),
                                "Failed": ("True", "BackoffLimitExceeded")}
    assert done["status"]["failed"] == 2
    assert "completionTime" not in done["status"]
    assert len(await pods_of(client, "flaky")) == 2
    await loop.recorder.wait_idle()
    assert ("BackoffLimitExceeded", "Job has reached the specified backoff limit") in \
        await events_of(client, "flaky")


async def test_pod_failure_policy_fails_the_job_on_exit_code_42(
        client: Client, loop: JobLoop) -> None:
    policy = {"rules": [{"action": "FailJob",
                         "onExitCodes": {"operator": "In", "values": [42]}}]}
    await client.create(JOBS, job("fatal", exit_code=42, backoffLimit=6,
                                  podFailurePolicy=policy), namespace=NS)
    done = await eventually(lambda: finished(client, "fatal"))
    assert conditions(done)["Failed"] == ("True", "PodFailurePolicy")
    pod = (await pods_of(client, "fatal"))[0]
    message = next(c["message"] for c in done["status"]["conditions"] if c["type"] == "Failed")
    assert message == (f"Container work for pod default/{pod['metadata']['name']} failed with "
                       "exit code 42 matching FailJob rule at index 0")
    assert done["status"]["failed"] == 1


async def test_suspended_job_runs_once_resumed(client: Client, loop: JobLoop) -> None:
    await client.create(JOBS, job("later", completions=2, suspend=True), namespace=NS)

    async def suspended() -> Obj | None:
        current = await client.get(JOBS, "later", namespace=NS)
        return current if conditions(current).get("Suspended") == ("True", "JobSuspended") \
            else None

    held = await eventually(suspended)
    assert "startTime" not in held["status"]
    assert await pods_of(client, "later") == []
    await client.patch(JOBS, "later", {"spec": {"suspend": False}}, namespace=NS)
    done = await eventually(lambda: finished(client, "later"))
    assert conditions(done)["Suspended"] == ("False", "JobResumed")
    assert done["status"]["succeeded"] == 2
    await loop.recorder.wait_idle()
    events = await events_of(client, "later")
    assert {("Suspended", "Job suspended"), ("Resumed", "Job resumed")} <= set(events)


async def test_active_deadline_fails_the_job_and_stops_its_pods(
        client: Client, loop: JobLoop) -> None:
    await client.create(JOBS, job("slow", exit_after="1h", parallelism=2, completions=4,
                                  activeDeadlineSeconds=1), namespace=NS)
    done = await eventually(lambda: finished(client, "slow"))
    assert conditions(done)["Failed"] == ("True", "DeadlineExceeded")
    assert done["status"].get("active", 0) == 0
    assert done["status"]["terminating"] == 0
    for p in await pods_of(client, "slow"):
        assert not p["metadata"].get("finalizers")


async def test_a_finished_job_is_deleted_after_its_ttl(client: Client) -> None:
    clock = TTLClock()
    async with nodes_and_scheduler(client):
        async with run_loops(client, lambda ctx: JobLoop(ctx),
                             lambda ctx: TTLAfterFinishedLoop(ctx, clock=clock)) as loops:
            ttl_loop: TTLAfterFinishedLoop = loops[1]
            await client.create(JOBS, job("brief", ttlSecondsAfterFinished=3600), namespace=NS)
            done = await eventually(lambda: finished(client, "brief"))
            await ttl_loop.sync(f"{NS}/brief")  # an hour has not passed
            assert (await client.get(JOBS, "brief", namespace=NS))["metadata"].get(
                "deletionTimestamp") is None
            clock.later = datetime.timedelta(hours=1, seconds=1)
            ttl_loop.controller.enqueue(f"{NS}/brief")

            async def deleted() -> bool:
                try:
                    current = await client.get(JOBS, "brief", namespace=NS)
                except errors.NotFound:
                    return True
                # with a garbage collector the Job waits on foregroundDeletion
                return current["metadata"]["uid"] == done["metadata"]["uid"] and \
                    "foregroundDeletion" in (current["metadata"].get("finalizers") or ())

            await eventually(deleted)


class TTLClock:
    def __init__(self) -> None:
        self.later = datetime.timedelta(0)

    def __call__(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.UTC) + self.later


async def test_failed_indexes_fail_the_job_with_backoff_limit_per_index(
        client: Client, loop: JobLoop) -> None:
    policy = {"rules": [{"action": "FailIndex",
                         "onExitCodes": {"operator": "In", "values": [3]}}]}
    await client.create(JOBS, job("perindex", exit_code=3, completions=3, parallelism=3,
                                  completionMode="Indexed", backoffLimitPerIndex=1,
                                  podFailurePolicy=policy), namespace=NS)
    done = await eventually(lambda: finished(client, "perindex"))
    assert conditions(done)["Failed"] == ("True", "FailedIndexes")
    assert done["status"]["failedIndexes"] == "0-2"
    assert done["status"]["failed"] == 3
    assert done["spec"]["backoffLimit"] == 2**31 - 1  # defaulted with backoffLimitPerIndex
    pods = await pods_of(client, "perindex")
    assert len(pods) == 3  # FailIndex: no retry despite backoffLimitPerIndex 1
    assert {p["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"]
            for p in pods} == {"0"}


async def test_a_success_policy_completes_the_job_early(client: Client, loop: JobLoop) -> None:
    await client.create(JOBS, job("leader", completions=5, parallelism=1, completionMode="Indexed",
                                  successPolicy={"rules": [{"succeededIndexes": "0"}]}),
                        namespace=NS)
    done = await eventually(lambda: finished(client, "leader"))
    assert conditions(done) == {"SuccessCriteriaMet": ("True", "SuccessPolicy"),
                                "Complete": ("True", "SuccessPolicy")}
    assert done["status"]["completedIndexes"] == "0"
    assert done["status"]["succeeded"] == 1
    assert [p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]
            for p in await pods_of(client, "leader")] == ["0"]
