"""The Job loop (upstream's pkg/controller/job/job_controller.go).

    pods, jobs informers ── handlers: observe expectations and finalizer removals, enqueue
                                        │
    sync(namespace/name): job from the lister (gone: forget it; finished: nothing to do)
        claim pods (all of them, finished ones too: they are what the Job counts)
        new finished pods: terminal, still holding batch.kubernetes.io/job-tracking,
            not yet in status.uncountedTerminatedPods
        outcome: a FailJob rule, the backoff limit, the deadline, failed indexes, a
            success policy, or enough completions (job_policies, job_status)
        failing or succeeding by policy: delete the active pods
        otherwise (expectations satisfied): create or delete pods toward
            min(parallelism, completions - succeeded), after the failure back-off;
            Indexed Jobs create the lowest pending indexes; suspended Jobs delete all
        tracking: record finished pods' uids in uncountedTerminatedPods (status write),
            remove their finalizers, then move them into succeeded / failed (and
            completedIndexes) and add the terminal condition once nothing is
            uncounted or terminating (status write)

Guarantees: every finished pod is counted exactly once, because its uid is written to
the Job's status before its finalizer is removed and counted only after (a crash in
between leaves it uncounted, never lost or doubled); the status is written with the
resourceVersion read, so a stale cache makes a conflict and a retry, never a wrong
count; no pod creation on a cache that has not seen the last ones (expectations).
"""

from __future__ import annotations

import copy
import datetime
import logging

from kubelite.client.controller import Controller, PermanentError
from kubelite.client.events import NORMAL
from kubelite.client.resource import Resource, resolve
from kubelite.client.store import object_key, split_key
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.expectations import ControllerExpectations
from kubelite.controllers.job_indexes import index_generate_name, indexed_template
from kubelite.controllers.job_outcome import COMPLETIONS_REACHED, JobOutcome, decide_outcome
from kubelite.controllers.job_policies import BackoffRecord, DEFAULT_POD_FAILURE_BACKOFF
from kubelite.controllers.job_status import (
    SUCCESS_CRITERIA_MET, TRACKING_FINALIZER, ensure_condition, has_finalizer, is_finished)
from kubelite.controllers.job_tracking import Tracker
from kubelite.controllers.pod_control import PodControl, namespace_terminating
from kubelite.controllers.pods import Obj, controller_of, meta, pod_key
from kubelite.controllers.ref_manager import PodClaimer
from kubelite.controllers.replicaset import ORPHAN, OWNER_INDEX, owner_index
from kubelite.controllers.slow_start import SLOW_START_INITIAL_BATCH, SlowStartFailure, slow_start_batch
from kubelite.machinery import errors, labels
from kubelite.machinery.timestamps import format_time

log = logging.getLogger(__name__)

WORKERS = 5  # upstream's ConcurrentJobSyncs
MAX_POD_CREATE_DELETE_PER_SYNC = 500
COMPONENT = "job-controller"
MANAGED_BY = "kubernetes.io/job-controller"

class JobLoop:
    name = "job"

    def __init__(self, ctx: LoopContext, *, clock: Clock = utc_now,
                 pod_failure_backoff: float = DEFAULT_POD_FAILURE_BACKOFF) -> None:
        self.client = ctx.client
        self.clock = clock
        self.pod_failure_backoff = pod_failure_backoff
        self.resource: Resource = resolve("jobs.batch")
        self.recorder = ctx.recorder(COMPONENT)
        self.pod_control = PodControl(ctx.client, self.recorder)
        self.expectations = ControllerExpectations()
        self.finalizer_removals: dict[str, set[str]] = {}  # job key -> pod uids
        self.backoffs: dict[str, BackoffRecord] = {}
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.jobs = ctx.informers.informer("jobs.batch")
        self.pods = ctx.informers.informer("pods", indexers={OWNER_INDEX: owner_index})
        self.jobs.add_event_handler(on_add=self._job_changed,
                                    on_update=lambda old, new: self._job_changed(new),
                                    on_delete=self._job_deleted)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated,
                                    on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.controller.run()

    # --- event handlers --------------------------------------------------------------

    def _job_changed(self, job: Obj) -> None:
        self.controller.enqueue(object_key(job))

    def _job_deleted(self, job: Obj) -> None:
        key = object_key(job)
        self.expectations.forget(key)
        self.backoffs.pop(key, None)
        self.controller.enqueue(key)  # its pods' finalizers are removed by the sync

    def _job_key(self, pod: Obj) -> str | None:
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "Job":
            return None
        return f"{meta(pod).get('namespace', '')}/{ref.get('name', '')}"

    def _pod_added(self, pod: Obj) -> None:
        key = self._job_key(pod)
        if key is None:
            self._enqueue_matching(pod)
            return
        if meta(pod).get("deletionTimestamp"):
            self.expectations.deletion_observed(key, pod_key(pod))
        else:
            self.expectations.creation_observed(key)
        self.controller.enqueue(key)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        key = self._job_key(new)
        if key is None:
            self._enqueue_matching(new)
            return
        if meta(new).get("deletionTimestamp"):
            self.expectations.deletion_observed(key, pod_key(new))
        if not has_finalizer(new):
            self._finalizer_removed(key, new)
        old_key = self._job_key(old)
        if old_key is not None and old_key != key:
            self.controller.enqueue(old_key)
        self.controller.enqueue(key)

    def _pod_deleted(self, pod: Obj) -> None:
        key = self._job_key(pod)
        if key is None:
            return
        self.expectations.deletion_observed(key, pod_key(pod))
        self._finalizer_removed(key, pod)
        self.controller.enqueue(key)

    def _finalizer_removed(self, key: str, pod: Obj) -> None:
        expected = self.finalizer_removals.get(key)
        if expected is not None:
            expected.discard(str(meta(pod).get("uid") or ""))

    def _enqueue_matching(self, pod: Obj) -> None:
        """An orphan's candidate Jobs (for adoption); a pod another kind controls has none."""
        pod_labels = meta(pod).get("labels") or {}
        if not pod_labels or controller_of(pod) is not None:
            return
        for job in self.jobs.lister.list(meta(pod).get("namespace")):
            try:
                selector = labels.selector_from_label_selector((job.get("spec") or {}).get("selector"))
            except errors.StatusError:
                continue
            if selector.matches(pod_labels):
                self.controller.enqueue(object_key(job))

    # --- sync -----------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.jobs.lister.get(namespace, name)
        if cached is None:
            self.expectations.forget(key)
            self.backoffs.pop(key, None)
            await self._release_orphans(key, namespace)
            return
        job: Obj = {**copy.deepcopy(cached), "kind": "Job", "apiVersion": "batch/v1"}
        if (job.get("spec") or {}).get("managedBy") not in (None, MANAGED_BY):
            return  # another controller's Job (spec.managedBy), as upstream skips it
        uid = str(meta(job).get("uid") or "")
        owned = [*self.pods.indexer.by_index(OWNER_INDEX, uid),
                 *self.pods.indexer.by_index(OWNER_INDEX, ORPHAN + namespace)]
        if is_finished(job):
            # what a finished Job still holds: finalizers of pods finished since
            await self._remove_finalizers(key, [p for p in owned if has_finalizer(p)
                                                and controller_of(p) is not None])
            return
        try:
            selector = labels.selector_from_label_selector((job.get("spec") or {}).get("selector"))
        except errors.StatusError as err:
            raise PermanentError(f"invalid selector: {err}") from None
        claimer = PodClaimer(self.client, job, selector, lambda: self.client.get(
            self.resource, name, namespace=namespace))
        pods = await claimer.claim(owned)
        satisfied = self.expectations.satisfied(key)
        now = self.clock()
        outcome = decide_outcome(job, pods, self.finalizer_removals.get(key, set()), now,
                                 self.backoffs.get(key, BackoffRecord()))
        status = job.setdefault("status", {})
        manage_error: Exception | None = None
        if status.get("startTime") is None and not outcome.suspended:
            status["startTime"] = outcome.now_stamp
            if outcome.deadline is not None:
                self.controller.enqueue_after(key, outcome.deadline)
        elif outcome.deadline is not None and outcome.finished is None and not outcome.suspended:
            self.controller.enqueue_after(key, outcome.remaining_deadline(status))
        if outcome.finished is not None:
            interim = outcome.finished
            ensure_condition(status, interim["type"], "True", interim["reason"],
                             interim["message"], now)
            try:
                outcome.active_count -= await self._delete_pods(key, job, outcome.active)
            except errors.StatusError as err:
                manage_error = err
            outcome.terminating += len(outcome.active)
        elif satisfied and not meta(job).get("deletionTimestamp"):
            try:
                await self._manage(key, job, outcome)
            except (errors.StatusError, SlowStartFailure, ValueError) as err:
                manage_error = err
            if outcome.complete():
                outcome.finished = COMPLETIONS_REACHED
                ensure_condition(status, SUCCESS_CRITERIA_MET, "True", COMPLETIONS_REACHED["reason"],
                                 COMPLETIONS_REACHED["message"], now)
            else:
                self._suspension(job, status, outcome.suspended, now)
        tracker = Tracker(self.client, self.resource, job, outcome, satisfied,
                          copy.deepcopy(cached.get("status") or {}))
        try:
            await tracker.track(lambda pods: self._remove_finalizers(key, pods))
        except errors.NotFound:
            return
        except errors.Conflict:
            # the cache has not shown our last write yet; its event enqueues the key
            log.debug("job %s changed since the cache saw it; syncing again", key)
            return
        self.backoffs[key] = outcome.backoff
        if tracker.more:
            self.controller.enqueue(key)
        for event in tracker.finished_events():
            self.recorder.event(job, *event)
        if manage_error is not None:
            raise manage_error

    def _suspension(self, job: Obj, status: Obj, suspended: bool, now: datetime.datetime) -> None:
        if suspended:
            if ensure_condition(status, "Suspended", "True", "JobSuspended", "Job suspended", now):
                self.recorder.event(job, NORMAL, "Suspended", "Job suspended")
        elif ensure_condition(status, "Suspended", "False", "JobResumed", "Job resumed", now):
            self.recorder.event(job, NORMAL, "Resumed", "Job resumed")
            # activeDeadlineSeconds counts the time a Job is continuously active
            status["startTime"] = format_time(now)

    async def _manage(self, key: str, job: Obj, outcome: JobOutcome) -> None:
        spec = job.get("spec") or {}
        want = outcome.want_active()
        to_delete = outcome.pods_for_removal(want)[:MAX_POD_CREATE_DELETE_PER_SYNC]
        if to_delete:
            outcome.active_count -= await self._delete_pods(key, job, to_delete)
            return
        diff = want - outcome.replacing() - outcome.active_count
        if diff <= 0:
            return
        diff = min(diff, MAX_POD_CREATE_DELETE_PER_SYNC)
        if not outcome.per_index:
            remaining = outcome.backoff.remaining(self.clock(), base=self.pod_failure_backoff)
            if remaining > 0:
                self.controller.enqueue_after(key, remaining)
                return
        template = copy.deepcopy(spec.get("template") or {})
        template_meta = template.setdefault("metadata", {})
        template_meta["finalizers"] = [*(template_meta.get("finalizers") or ()),
                                       TRACKING_FINALIZER]
        plans: list[tuple[Obj, str | None]]
        if outcome.indexed:
            indexes, delay = outcome.indexes_to_create(diff, self.clock(), self.pod_failure_backoff)
            if delay > 0:
                self.controller.enqueue_after(key, delay)
            plans = [(indexed_template(template, meta(job)["name"], ix,
                                       failure_count=outcome.index_failure_count(ix)),
                      index_generate_name(meta(job)["name"], ix)) for ix in indexes]
        else:
            plans = [(template, None)] * diff
        if not plans:
            return
        self.expectations.expect_creations(key, len(plans))
        pending = list(plans)

        async def create_one() -> None:
            plan_template, generate_name = pending.pop(0)
            try:
                await self.pod_control.create_pod(job, plan_template, generate_name=generate_name)
            except errors.StatusError as err:
                if not namespace_terminating(err):
                    raise

        try:
            await slow_start_batch(len(plans), SLOW_START_INITIAL_BATCH, create_one)
        except SlowStartFailure as failure:
            for _ in range(len(plans) - failure.successes):
                self.expectations.creation_observed(key)
            outcome.active_count += failure.successes
            raise
        outcome.active_count += len(plans)

    async def _delete_pods(self, key: str, job: Obj, pods: list[Obj]) -> int:
        """Delete `pods`, removing the finalizers first so nothing waits on this loop;
        the number deleted."""
        if not pods:
            return 0
        self.expectations.expect_deletions(key, [pod_key(p) for p in pods])
        deleted = 0
        failure: errors.StatusError | None = None
        for pod in pods:
            try:
                await self.pod_control.delete_pod(job, meta(pod)["namespace"], meta(pod)["name"])
                deleted += 1
            except errors.StatusError as err:
                self.expectations.deletion_observed(key, pod_key(pod))
                if not isinstance(err, errors.NotFound):
                    failure = err
        if failure is not None:
            raise failure
        return deleted

    async def _remove_finalizers(self, key: str, pods: list[Obj]) -> set[str]:
        """Remove the tracking finalizer from `pods`; the uids it is gone from."""
        expected = self.finalizer_removals.setdefault(key, set())
        done: set[str] = set()
        for pod in pods:
            uid = str(meta(pod).get("uid") or "")
            expected.add(uid)
            try:
                await self.client.patch("pods", meta(pod)["name"], {"metadata": {
                    "$deleteFromPrimitiveList/finalizers": [TRACKING_FINALIZER]}},
                    type="strategic", namespace=meta(pod)["namespace"])
            except errors.NotFound:
                expected.discard(uid)
            except errors.StatusError:
                expected.discard(uid)
                raise
            done.add(uid)
        return done

    async def _release_orphans(self, key: str, namespace: str) -> None:
        """A deleted Job's pods keep no tracking finalizer (upstream's orphan handling)."""
        name = key.split("/", 1)[1]
        leftovers = [p for p in self.pods.lister.list(namespace) if has_finalizer(p)
                     and (controller_of(p) or {}).get("name") == name
                     and (controller_of(p) or {}).get("kind") == "Job"]
        await self._remove_finalizers(key, leftovers)
        self.finalizer_removals.pop(key, None)

