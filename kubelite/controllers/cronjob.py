"""The CronJob loop (upstream's pkg/controller/cronjob/cronjob_controllerv2.go).

    cronjobs, jobs informers ── handlers: enqueue the CronJob (a Job's controller)
                                        │
    sync(namespace/name): CronJob from the lister (gone: nothing to do)
        reconcile status.active with its Jobs: finished ones leave it (SawCompletedJob,
            lastSuccessfulTime), vanished ones too (MissingJob); unfinished ones missing
            from it join it if this loop started them (a lost status write), else UnexpectedJob
        not suspended, schedule parses, zone known: the most recent scheduled time
            not yet started (TooManyMissedTimes when over 100 were missed)
            past startingDeadlineSeconds: MissSchedule, skip it
            already started (a Job of that name is active): nothing
            Forbid with a Job active: JobAlreadyActive, skip
            Replace: delete the active Jobs (background propagation)
            create `<name>-<minutes>` from jobTemplate; lastScheduleTime = that time
        delete finished Jobs beyond successful/failedJobsHistoryLimit, oldest first
        write status if changed; look again just after the next scheduled time

The clock is injected (`clock=`), so a test moves time instead of waiting for it and
then enqueues the key; in a server it is the wall clock and the loop requeues itself.
"""

from __future__ import annotations

import copy
import datetime
import logging

from kubelite.client.controller import Controller, TemporaryError
from kubelite.client.events import NORMAL, WARNING
from kubelite.client.resource import resolve
from kubelite.client.store import object_key, split_key
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.cron_schedule import ScheduleError, parse_schedule
from kubelite.controllers.cronjob_times import (
    SCHEDULED_TIMESTAMP, Missed, job_from_template, job_name, most_recent_schedule_time, next_schedule_delay)
from kubelite.controllers.job_status import COMPLETE, FAILED, condition, is_finished
from kubelite.controllers.pods import Obj, controller_of, meta
from kubelite.machinery import errors
from kubelite.machinery.timestamps import format_time, parse_rfc3339

log = logging.getLogger(__name__)

WORKERS = 5  # upstream's ConcurrentCronJobSyncs
COMPONENT = "cronjob-controller"
CRONJOB_INDEX = "cronjob"

def cronjob_index(job: Obj) -> list[str]:
    ref = controller_of(job)
    if ref is None or ref.get("kind") != "CronJob":
        return []
    return [f"{meta(job).get('namespace', '')}/{ref.get('name', '')}"]


def job_ref(job: Obj) -> Obj:
    m = meta(job)
    return {"kind": "Job", "namespace": m.get("namespace"), "name": m.get("name"),
            "uid": m.get("uid"), "apiVersion": "batch/v1",
            "resourceVersion": m.get("resourceVersion")}


def rfc1123z(moment: datetime.datetime) -> str:
    return moment.strftime("%a, %d %b %Y %H:%M:%S %z")


class CronJobLoop:
    name = "cronjob"

    def __init__(self, ctx: LoopContext, *, clock: Clock = utc_now) -> None:
        self.client = ctx.client
        self.clock = clock
        self.resource = resolve("cronjobs.batch")
        self.recorder = ctx.recorder(COMPONENT)
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.cronjobs = ctx.informers.informer("cronjobs.batch")
        self.jobs = ctx.informers.informer("jobs.batch", indexers={CRONJOB_INDEX: cronjob_index})
        self.cronjobs.add_event_handler(
            on_add=lambda cj: self.controller.enqueue(object_key(cj)),
            on_update=lambda old, new: self.controller.enqueue(object_key(new)))
        self.jobs.add_event_handler(on_add=self._job_changed,
                                    on_update=lambda old, new: self._job_changed(new),
                                    on_delete=self._job_changed)

    async def run(self) -> None:
        await self.controller.run()

    def _job_changed(self, job: Obj) -> None:
        for key in cronjob_index(job):
            self.controller.enqueue(key)

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.cronjobs.lister.get(namespace, name)
        if cached is None:
            return
        cronjob: Obj = {**copy.deepcopy(cached), "kind": "CronJob", "apiVersion": "batch/v1"}
        uid = meta(cronjob).get("uid")
        jobs = [j for j in self.jobs.indexer.by_index(CRONJOB_INDEX, key)
                if (controller_of(j) or {}).get("uid") == uid]
        now = self.clock()
        status = cronjob.setdefault("status", {})
        await self._reconcile_active(cronjob, status, jobs)
        requeue: float | None = None
        if not meta(cronjob).get("deletionTimestamp"):
            requeue = await self._start_due(cronjob, status, now)
            await self._clean_history(cronjob, jobs)
        if status != (cached.get("status") or {}):
            try:
                await self.client.update_status(self.resource, cronjob, namespace=namespace)
            except errors.NotFound:
                return
            except errors.Conflict:
                # the cache had not seen our last write; the next sync adopts any Job
                # this one started, so nothing is started twice or lost
                raise TemporaryError("cronjob changed meanwhile", delay=0.1) from None
        if requeue is not None:
            self.controller.enqueue_after(key, max(requeue, 0.0))

    async def _reconcile_active(self, cronjob: Obj, status: Obj, jobs: list[Obj]) -> None:
        active: list[Obj] = list(status.get("active") or ())
        active_uids = {ref.get("uid") for ref in active}
        seen: set[str] = set()
        for job in jobs:
            job_uid = meta(job).get("uid")
            seen.add(str(job_uid))
            if job_uid not in active_uids and not is_finished(job):
                self._adopt(cronjob, status, active, job)
            elif job_uid in active_uids and is_finished(job):
                active = [ref for ref in active if ref.get("uid") != job_uid]
                outcome = COMPLETE if (condition(job, COMPLETE) or {}).get("status") == "True" \
                    else FAILED
                self.recorder.event(cronjob, NORMAL, "SawCompletedJob",
                                    f"Saw completed job: {meta(job)['name']}, condition: {outcome}")
            if (condition(job, COMPLETE) or {}).get("status") == "True":
                done = parse_rfc3339(str((job.get("status") or {}).get("completionTime") or ""))
                last = parse_rfc3339(str(status.get("lastSuccessfulTime") or ""))
                if done is not None and (last is None or done > last):
                    status["lastSuccessfulTime"] = format_time(done)
        for ref in list(active):
            if ref.get("uid") in seen:
                continue
            try:
                await self.client.get("jobs.batch", str(ref.get("name")),
                                      namespace=meta(cronjob)["namespace"])
            except errors.NotFound:
                self.recorder.event(cronjob, NORMAL, "MissingJob",
                                    f"Active job went missing: {ref.get('name')}")
                active.remove(ref)
        if active:
            status["active"] = active
        else:
            status.pop("active", None)

    def _adopt(self, cronjob: Obj, status: Obj, active: list[Obj], job: Obj) -> None:
        """An unfinished Job of ours missing from status.active. One this loop started
        (it has the scheduled-timestamp annotation) whose status write was lost, to a
        conflict or a crash, is put back with its scheduled time, so it is neither
        started twice nor forgotten. Any other (`kubectl create job --from`) is
        upstream's UnexpectedJob, and stays out of status.active as there."""
        stamp = (meta(job).get("annotations") or {}).get(SCHEDULED_TIMESTAMP)
        scheduled = parse_rfc3339(str(stamp or ""))
        if scheduled is None:
            self.recorder.event(cronjob, WARNING, "UnexpectedJob",
                                f"Saw a job that the controller did not create or forgot: "
                                f"{meta(job)['name']}")
            return
        last = parse_rfc3339(str(status.get("lastScheduleTime") or ""))
        if last is None or scheduled > last:
            status["lastScheduleTime"] = format_time(scheduled)
        active.append(job_ref(job))

    async def _start_due(self, cronjob: Obj, status: Obj, now: datetime.datetime) -> float | None:
        """Start the Job due now, if any; seconds until the next look (None: never)."""
        spec = cronjob.get("spec") or {}
        if spec.get("suspend"):
            return None
        try:
            schedule = parse_schedule(str(spec.get("schedule") or ""), spec.get("timeZone"))
        except ScheduleError as err:
            if spec.get("timeZone") and "location" in str(err):
                self.recorder.event(cronjob, WARNING, "UnknownTimeZone",
                                    f"invalid timeZone: {spec.get('timeZone')!r}: {err}")
            else:
                self.recorder.event(cronjob, WARNING, "UnparseableSchedule",
                                    f"unparseable schedule: {spec.get('schedule')!r} : {err}")
            return None
        try:
            times = most_recent_schedule_time(cronjob, now, schedule)
        except ValueError as err:
            self.recorder.event(cronjob, WARNING, "InvalidSchedule",
                                f"invalid schedule: {spec.get('schedule')} : {err}")
            return None
        if times.missed is Missed.MANY:
            self.recorder.event(cronjob, WARNING, "TooManyMissedTimes",
                                "too many missed start times. Set or decrease "
                                ".spec.startingDeadlineSeconds or check clock skew")
        next_look = next_schedule_delay(cronjob, now, schedule)
        scheduled = times.most_recent
        if scheduled is None:
            return next_look
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None and scheduled + datetime.timedelta(seconds=int(deadline)) < now:
            self.recorder.event(cronjob, WARNING, "MissSchedule",
                                f"Missed scheduled time to start a job: {rfc1123z(scheduled)}")
            return next_look
        active: list[Obj] = list(status.get("active") or ())
        name = job_name(cronjob, scheduled)
        if any(ref.get("name") == name for ref in active):
            return next_look
        policy = spec.get("concurrencyPolicy") or "Allow"
        if policy == "Forbid" and active:
            self.recorder.event(cronjob, NORMAL, "JobAlreadyActive",
                                "Not starting job because prior execution is running and "
                                "concurrency policy is Forbid")
            return next_look
        namespace = meta(cronjob)["namespace"]
        if policy == "Replace":
            for ref in active:
                await self._delete_job(cronjob, str(ref.get("name")))
            active = []
        try:
            created = await self.client.create(
                "jobs.batch", job_from_template(cronjob, scheduled, schedule), namespace=namespace)
        except errors.AlreadyExists:
            # made by an earlier sync whose status write was lost: take it as started
            log.info("job %s/%s already exists", namespace, name)
            return next_look
        except errors.StatusError as err:
            self.recorder.event(cronjob, WARNING, "FailedCreate", f"Error creating job: {err}")
            raise
        self.recorder.event(cronjob, NORMAL, "SuccessfulCreate", f"Created job {name}")
        status["active"] = [*active, job_ref(created)]
        status["lastScheduleTime"] = format_time(scheduled)
        return next_look

    async def _delete_job(self, cronjob: Obj, name: str) -> None:
        try:
            await self.client.delete("jobs.batch", name, namespace=meta(cronjob)["namespace"],
                                     propagation_policy="Background")
        except errors.NotFound:
            return
        except errors.StatusError as err:
            self.recorder.event(cronjob, WARNING, "FailedDelete", f"Deleted job: {err}")
            raise
        self.recorder.event(cronjob, NORMAL, "SuccessfulDelete", f"Deleted job {name}")

    async def _clean_history(self, cronjob: Obj, jobs: list[Obj]) -> None:
        """Delete finished Jobs past the history limits, oldest start first."""
        spec = cronjob.get("spec") or {}
        for type_, limit in ((COMPLETE, spec.get("successfulJobsHistoryLimit")),
                             (FAILED, spec.get("failedJobsHistoryLimit"))):
            if limit is None:
                continue
            done = [j for j in jobs if (condition(j, type_) or {}).get("status") == "True"
                    and not meta(j).get("deletionTimestamp")]
            if len(done) <= int(limit):
                continue
            done.sort(key=lambda j: (str((j.get("status") or {}).get("startTime") or "~"),
                                     meta(j).get("name", "")))
            for job in done[:len(done) - int(limit)]:
                await self._delete_job(cronjob, meta(job)["name"])
