"""When a CronJob is due, with upstream's cases (cronjob utils_test.go:
TestMostRecentScheduleTime, TestNextScheduleTime, getJobName)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from kubelite.controllers.cron_schedule import parse_schedule
from kubelite.controllers.cronjob_times import (
    SCHEDULED_TIMESTAMP, Missed, job_from_template, job_name, most_recent_schedule_time,
    next_schedule_delay)

Obj = dict[str, Any]


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).astimezone(datetime.UTC)


def cronjob(created: str, last: str | None = None, deadline: int | None = None) -> Obj:
    status = {"lastScheduleTime": last} if last else {}
    spec: Obj = {"schedule": "unused", "jobTemplate": {
        "metadata": {"labels": {"a": "b"}, "annotations": {"x": "y"}},
        "spec": {"template": {"spec": {"containers": []}}}}}
    if deadline is not None:
        spec["startingDeadlineSeconds"] = deadline
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "cj", "namespace": "ns", "uid": "u1", "creationTimestamp": created},
            "spec": spec, "status": status}


@pytest.mark.parametrize(("spec", "cj", "now", "want", "missed"), [
    pytest.param("0 * * * *", cronjob("2026-01-01T10:00:00Z"), "2026-01-01T10:30:00Z", None,
                 Missed.NONE, id="not-yet"),
    pytest.param("0 * * * *", cronjob("2026-01-01T10:00:00Z"), "2026-01-01T11:00:01Z",
                 "2026-01-01T11:00:00Z", Missed.NONE, id="one-due"),
    pytest.param("0 * * * *", cronjob("2026-01-01T09:00:00Z", "2026-01-01T10:00:00Z"),
                 "2026-01-01T13:01:00Z", "2026-01-01T13:00:00Z", Missed.FEW, id="few-missed"),
    pytest.param("*/1 * * * *", cronjob("2026-01-01T00:00:00Z"), "2026-01-03T00:00:30Z",
                 "2026-01-03T00:00:00Z", Missed.MANY, id="many-missed"),
    pytest.param("*/1 * * * *", cronjob("2026-01-01T00:00:00Z", deadline=300),
                 "2026-01-03T00:00:30Z", "2026-01-03T00:00:00Z", Missed.FEW,
                 id="deadline-bounds-the-misses"),
    pytest.param("0 10 * * 0,3", cronjob("2026-01-01T00:00:00Z"), "2026-01-20T12:00:00Z",
                 "2026-01-18T10:00:00Z", Missed.FEW, id="irregular-wed-and-sun"),
])
def test_most_recent_schedule_time(spec: str, cj: Obj, now: str, want: str | None,
                                   missed: Missed) -> None:
    times = most_recent_schedule_time(cj, at(now), parse_schedule(spec))
    assert times.most_recent == (at(want) if want else None)
    assert times.missed == missed


def test_next_look_is_just_after_the_next_time() -> None:
    cj = cronjob("2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z")
    delay = next_schedule_delay(cj, at("2026-01-01T11:30:00Z"), parse_schedule("0 * * * *"))
    assert delay == pytest.approx(1800.1)


def test_a_job_from_the_template_is_named_by_its_minute() -> None:
    cj = cronjob("2026-01-01T00:00:00Z")
    scheduled = at("2026-01-01T09:00:00Z")
    schedule = parse_schedule("0 9 * * *", "Europe/Berlin")
    job = job_from_template(cj, scheduled, schedule)
    assert job_name(cj, scheduled) == job["metadata"]["name"] == f"cj-{1767258000 // 60}"
    assert job["metadata"]["annotations"] == {"x": "y",
                                              SCHEDULED_TIMESTAMP: "2026-01-01T10:00:00+01:00"}
    assert job["metadata"]["labels"] == {"a": "b"}
    assert job["metadata"]["ownerReferences"] == [{
        "apiVersion": "batch/v1", "kind": "CronJob", "name": "cj", "uid": "u1",
        "controller": True, "blockOwnerDeletion": True}]
    utc = job_from_template(cj, scheduled, parse_schedule("0 9 * * *"))
    assert utc["metadata"]["annotations"][SCHEDULED_TIMESTAMP] == "2026-01-01T09:00:00Z"
