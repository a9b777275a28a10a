"""When a CronJob should have started a Job (upstream's pkg/controller/cronjob/utils.go:
mostRecentScheduleTime, nextScheduleTime, getJobName, getJobFromTemplate2).

- The earliest time that counts is the last schedule time, else the CronJob's
  creation; with startingDeadlineSeconds, no earlier than now minus that deadline.
- Of the scheduled times after it and not after now, the most recent is the one to
  start; how many were missed is upstream's estimate (the gap between the first two
  times into the time elapsed), and over 100 is "too many" (a warning event).
- A Job's name is `<cronjob>-<scheduled time in minutes since the epoch>`, so a
  scheduled time is started at most once; the time itself is in the annotation
  batch.kubernetes.io/cronjob-scheduled-timestamp (RFC 3339 in the CronJob's zone).
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass
from enum import Enum

from kubelite.controllers.cron_schedule import CronSchedule, Schedule
from kubelite.controllers.pod_control import controller_ref
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery.timestamps import parse_rfc3339

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MANY_MISSED = 100


class Missed(Enum):
    NONE = 0
    FEW = 1
    MANY = 2


@dataclass(frozen=True, slots=True)
class ScheduleTimes:
    earliest: datetime.datetime
    most_recent: datetime.datetime | None
    missed: Missed


def earliest_time(cronjob: Obj, now: datetime.datetime, with_deadline: bool) -> datetime.datetime:
    status, spec = cronjob.get("status") or {}, cronjob.get("spec") or {}
    earliest = (parse_rfc3339(str(status.get("lastScheduleTime") or ""))
                or parse_rfc3339(str(meta(cronjob).get("creationTimestamp") or "")) or now)
    deadline = spec.get("startingDeadlineSeconds")
    if with_deadline and deadline is not None:
        earliest = max(earliest, now - datetime.timedelta(seconds=int(deadline)))
    return earliest


def most_recent_schedule_time(cronjob: Obj, now: datetime.datetime, schedule: Schedule,
                              with_deadline: bool = True) -> ScheduleTimes:
    """Raises ValueError for schedules less than a second apart."""
    earliest = earliest_time(cronjob, now, with_deadline)
    t1 = schedule.next(earliest)
    t2 = schedule.next(t1) if t1 is not None else None
    if t1 is None or now < t1:
        return ScheduleTimes(earliest, None, Missed.NONE)
    if t2 is None or now < t2:
        return ScheduleTimes(earliest, t1, Missed.NONE)
    between = round((t2 - t1).total_seconds())
    if between < 1:
        raise ValueError("time difference between two schedules is less than 1 second")
    missed_count = int((now - t1).total_seconds()) // between + 1
    # the estimate lands just before the most recent time; walk the schedule from there
    most_recent: datetime.datetime | None = None
    candidate = schedule.next(t1 + datetime.timedelta(seconds=(missed_count - 2) * between))
    while candidate is not None and candidate <= now:
        most_recent = candidate
        candidate = schedule.next(candidate)
    missed = (Missed.MANY if missed_count > MANY_MISSED
              else Missed.FEW if missed_count > 1 else Missed.NONE)
    return ScheduleTimes(earliest, most_recent or t1, missed)


def next_schedule_delay(cronjob: Obj, now: datetime.datetime, schedule: Schedule
                        ) -> float | None:
    """Seconds from now until just after the next scheduled time (upstream adds 100 ms)."""
    try:
        times = most_recent_schedule_time(cronjob, now, schedule, with_deadline=False)
    except ValueError:
        return None
    nxt = schedule.next(times.most_recent or times.earliest)
    return None if nxt is None else (nxt - now).total_seconds() + 0.1


def job_name(cronjob: Obj, scheduled: datetime.datetime) -> str:
    return f"{meta(cronjob)['name']}-{int(scheduled.timestamp()) // 60}"


def scheduled_stamp(scheduled: datetime.datetime, schedule: Schedule) -> str:
    zone = schedule.zone if isinstance(schedule, CronSchedule) else datetime.UTC
    local = scheduled.astimezone(zone)
    text = local.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if local.utcoffset() == datetime.timedelta(0) else text


def job_from_template(cronjob: Obj, scheduled: datetime.datetime, schedule: Schedule) -> Obj:
    template = (cronjob.get("spec") or {}).get("jobTemplate") or {}
    template_meta = template.get("metadata") or {}
    annotations = dict(template_meta.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP] = scheduled_stamp(scheduled, schedule)
    job_meta: Obj = {"name": job_name(cronjob, scheduled), "annotations": annotations,
                     "ownerReferences": [controller_ref(cronjob)]}
    if template_meta.get("labels"):
        job_meta["labels"] = dict(template_meta["labels"])
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": job_meta,
            "spec": copy.deepcopy(template.get("spec") or {})}
