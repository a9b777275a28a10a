"""The CronJob loop on an injected clock, with the Job loop, the scheduler and simulated
nodes running the Jobs it starts: time moves when a test says so, and the test then
asks for a sync (as the loop's own timer would once that time came)."""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from kubelite.client.rest import Client
from kubelite.controllers.cronjob import CronJobLoop
from kubelite.controllers.job import JobLoop
from tests.loops import nodes_and_scheduler, run_loops
from tests.test_scheduler import eventually

Obj = dict[str, Any]
NS = "default"
CJ = "cronjobs.batch"


@dataclass
class FakeClock:
    now: datetime.datetime

    def __call__(self) -> datetime.datetime:
        return self.now

    def to_minute(self, minutes: int) -> datetime.datetime:
        """`minutes` whole minutes past the start's minute, plus a second."""
        start = self.start.replace(second=0, microsecond=0)
        self.now = start + datetime.timedelta(minutes=minutes, seconds=1)
        return self.now - datetime.timedelta(seconds=1)

    def __post_init__(self) -> None:
        self.start = self.now


@dataclass
class Cron:
    client: Client
    loop: CronJobLoop
    clock: FakeClock

    async def create(self, obj: Obj) -> None:
        """Create the CronJob and start the clock at its creation, as the server stamped it."""
        created = await self.client.create(CJ, obj, namespace=NS)
        stamp = created["metadata"]["creationTimestamp"]
        self.clock.start = self.clock.now = datetime.datetime.fromisoformat(stamp)

    def tick(self, name: str, minute: int) -> datetime.datetime:
        scheduled = self.clock.to_minute(minute)
        self.loop.controller.enqueue(f"{NS}/{name}")
        return scheduled


@pytest.fixture
async def cron(client: Client) -> AsyncIterator[Cron]:
    clock = FakeClock(datetime.datetime.now(datetime.UTC))
    async with nodes_and_scheduler(client):
        async with run_loops(client, lambda ctx: JobLoop(ctx, pod_failure_backoff=0.05),
                             lambda ctx: CronJobLoop(ctx, clock=clock)) as loops:
            yield Cron(client, loops[1], clock)


def cronjob(name: str, *, exit_after: str = "100ms", **spec: Any) -> Obj:
    return {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": "* * * * *", **spec, "jobTemplate": {"spec": {"template": {
                "metadata": {"annotations": {"sim.kubelite.io/exit-after": exit_after}},
                "spec": {"restartPolicy": "Never",
                         "containers": [{"name": "c", "image": "busybox"}]}}}}}}


def minutes(moment: datetime.datetime) -> int:
    return int(moment.timestamp()) // 60


async def jobs_of(client: Client, name: str) -> list[str]:
    items = (await client.list("jobs.batch", namespace=NS))["items"]
    return sorted(j["metadata"]["name"] for j in items
                  if any(r["name"] == name for r in j["metadata"].get("ownerReferences") or ())
                  and not j["metadata"].get("deletionTimestamp"))


async def status_of(client: Client, name: str) -> Obj:
    status: Obj = (await client.get(CJ, name, namespace=NS)).get("status") or {}
    return status


async def reasons(client: Client, name: str) -> list[str]:
    items = (await client.list("events", namespace=NS))["items"]
    return [e["reason"] for e in items if e["involvedObject"]["name"] == name]


async def test_a_cronjob_starts_its_job_on_time_and_sees_it_complete(cron: Cron) -> None:
    client = cron.client
    await cron.create(cronjob("tick"))
    await eventually(lambda: _cached(cron, "tick"))
    cron.clock.now = cron.clock.start.replace(second=59)  # before the first minute is up
    await cron.loop.sync(f"{NS}/tick")
    assert await jobs_of(client, "tick") == []
    scheduled = cron.tick("tick", 1)
    name = f"tick-{minutes(scheduled)}"

    async def completed() -> Obj | None:
        status = await status_of(client, "tick")
        return status if status.get("lastSuccessfulTime") and not status.get("active") else None

    status = await eventually(completed)
    assert status["lastScheduleTime"] == scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert await jobs_of(client, "tick") == [name]
    job = await client.get("jobs.batch", name, namespace=NS)
    assert job["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"] == \
        scheduled.strftime("%Y-%m-%dT%H:%M:%SZ")
    await cron.loop.recorder.wait_idle()
    assert {"SuccessfulCreate", "SawCompletedJob"} <= set(await reasons(client, "tick"))


async def test_forbid_skips_a_start_while_one_runs(cron: Cron) -> None:
    client = cron.client
    await cron.create(cronjob("one", exit_after="1h", concurrencyPolicy="Forbid"))
    first = f"one-{minutes(cron.tick('one', 1))}"
    assert await eventually(lambda: jobs_of(client, "one")) == [first]
    cron.tick("one", 2)

    async def refused() -> bool:
        await cron.loop.recorder.wait_idle()
        return "JobAlreadyActive" in await reasons(client, "one")

    await eventually(refused)
    assert await jobs_of(client, "one") == [first]
    assert [r["name"] for r in (await status_of(client, "one"))["active"]] == [first]


async def test_replace_replaces_the_running_job(cron: Cron) -> None:
    client = cron.client
    await cron.create(cronjob("swap", exit_after="1h", concurrencyPolicy="Replace"))
    first = f"swap-{minutes(cron.tick('swap', 1))}"
    assert await eventually(lambda: jobs_of(client, "swap")) == [first]
    second = f"swap-{minutes(cron.tick('swap', 2))}"

    async def replaced() -> bool:
        active = [r["name"] for r in (await status_of(client, "swap")).get("active") or ()]
        return active == [second] and await jobs_of(client, "swap") == [second]

    await eventually(replaced)
    await cron.loop.recorder.wait_idle()
    assert "SuccessfulDelete" in await reasons(client, "swap")


async def test_history_limits_keep_the_newest_finished_jobs(cron: Cron) -> None:
    client = cron.client
    await cron.create(cronjob("hist", successfulJobsHistoryLimit=1))
    names = []
    for minute in (1, 2, 3):
        names.append(f"hist-{minutes(cron.tick('hist', minute))}")

        async def done(name: str = names[-1]) -> bool:
            status = await status_of(client, "hist")
            job_names = await jobs_of(client, "hist")
            return (not status.get("active") and name in job_names
                    and status.get("lastScheduleTime") is not None and len(job_names) == 1)

        await eventually(done)
    assert await jobs_of(client, "hist") == [names[-1]]


async def test_a_start_past_its_starting_deadline_is_skipped(cron: Cron) -> None:
    client = cron.client
    for name, deadline in (("late", 10), ("ontime", 30)):
        await cron.create(cronjob(name, startingDeadlineSeconds=deadline, schedule="0 0 1 1 *"))
    # the next New Year, 20 s late: too late for one, in time for the other
    new_year = datetime.datetime(cron.clock.start.year + 1, 1, 1, tzinfo=datetime.UTC)
    cron.clock.now = new_year + datetime.timedelta(seconds=20)
    await eventually(lambda: _cached(cron, "late"))
    await cron.loop.sync(f"{NS}/late")
    cron.loop.controller.enqueue(f"{NS}/ontime")
    assert await eventually(lambda: jobs_of(client, "ontime")) == \
        [f"ontime-{minutes(new_year)}"]
    assert await jobs_of(client, "late") == []
    assert "lastScheduleTime" not in await status_of(client, "late")


async def _cached(cron: Cron, name: str) -> bool:
    return cron.loop.cronjobs.lister.get(NS, name) is not None
