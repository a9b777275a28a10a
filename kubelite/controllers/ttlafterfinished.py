"""The TTL-after-finished loop (upstream's pkg/controller/ttlafterfinished): a finished
Job with spec.ttlSecondsAfterFinished is deleted that many seconds after it finished.

    jobs informer ── handlers: enqueue Jobs that have a TTL and are finished
                         │
    sync(namespace/name): Job from the lister; no TTL, not finished, or being deleted:
        nothing. Not expired yet (finish time = the Complete or Failed condition's
        lastTransitionTime, + TTL): look again when it expires. Expired: read the Job
        from the server (the TTL may have changed since the cache saw it), and if still
        expired delete it with Foreground propagation and its uid as precondition, so
        its pods go first (the garbage collector deletes them) and a Job recreated
        under the same name is never taken for the old one.

The clock is injected (`clock=`) for tests.
"""

from __future__ import annotations

import datetime
import logging

from kubelite.client.controller import Controller
from kubelite.client.store import object_key, split_key
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.job_status import COMPLETE, FAILED, condition
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors
from kubelite.machinery.timestamps import parse_rfc3339

log = logging.getLogger(__name__)

WORKERS = 5  # upstream's ConcurrentTTLSyncs

def finish_time(job: Obj) -> datetime.datetime | None:
    for type_ in (COMPLETE, FAILED):
        cond = condition(job, type_)
        if cond is not None and cond.get("status") == "True":
            return parse_rfc3339(str(cond.get("lastTransitionTime") or ""))
    return None


def needs_cleanup(job: Obj) -> bool:
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    return ttl is not None and finish_time(job) is not None


def time_left(job: Obj, now: datetime.datetime) -> float | None:
    """Seconds until the Job expires (<= 0: expired); None when it never does."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    finished = finish_time(job)
    if ttl is None or finished is None or meta(job).get("deletionTimestamp"):
        return None
    return (finished + datetime.timedelta(seconds=int(ttl)) - now).total_seconds()


class TTLAfterFinishedLoop:
    name = "ttl-after-finished"

    def __init__(self, ctx: LoopContext, *, clock: Clock = utc_now) -> None:
        self.client = ctx.client
        self.clock = clock
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.jobs = ctx.informers.informer("jobs.batch")
        self.jobs.add_event_handler(on_add=self._job_changed,
                                    on_update=lambda old, new: self._job_changed(new))

    async def run(self) -> None:
        await self.controller.run()

    def _job_changed(self, job: Obj) -> None:
        if needs_cleanup(job) and not meta(job).get("deletionTimestamp"):
            self.controller.enqueue(object_key(job))

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.jobs.lister.get(namespace, name)
        if cached is None:
            return
        left = time_left(cached, self.clock())
        if left is None:
            return
        if left > 0:
            self.controller.enqueue_after(key, left)
            return
        try:
            fresh = await self.client.get("jobs.batch", name, namespace=namespace)
        except errors.NotFound:
            return
        left = time_left(fresh, self.clock())
        if left is None:
            return
        if left > 0:
            self.controller.enqueue_after(key, left)
            return
        log.debug("cleaning up job %s", key)
        try:
            await self.client.delete("jobs.batch", name, namespace=namespace,
                                     propagation_policy="Foreground",
                                     preconditions={"uid": str(meta(fresh).get("uid"))})
        except (errors.NotFound, errors.Conflict):
            return  # gone, or another Job by that name now
