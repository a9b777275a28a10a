"""Counting a Job's finished pods exactly once (upstream's trackJobStatusAndRemoveFinalizers
and flushUncountedAndRemoveFinalizers).

Every pod a Job creates carries the finalizer `batch.kubernetes.io/job-tracking`, so it
cannot vanish before the Job has counted it. A finished (or terminating) pod is counted
in three steps, each safe to repeat after a crash:

  1. its uid goes into status.uncountedTerminatedPods.succeeded / .failed (for an
     Indexed Job a success goes straight into completedIndexes), and the status is
     written;
  2. its finalizer is removed;
  3. uids whose pods no longer hold the finalizer move from the uncounted lists into
     status.succeeded / status.failed, and, once nothing is uncounted or terminating,
     the interim condition's terminal twin (Complete with completionTime, or Failed) is
     added; the status is written again.

At most 500 uids wait in the uncounted lists (upstream's MaxUncountedPods); more
finished pods are left to the next sync. A failure a podFailurePolicy rule Ignores is
never counted. Once the Job is failing,
its unfinished pods count as failed.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from typing import Any

from kubelite.client.events import NORMAL, WARNING
from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.controllers.job_indexes import completion_index, format_indexes, valid_index
from kubelite.controllers.job_outcome import JobOutcome
from kubelite.controllers.job_policies import match_pod_failure_policy
from kubelite.controllers.job_status import (
    COMPLETE, FAILURE_TARGET, TERMINAL_OF, ensure_condition, has_finalizer, is_failed)
from kubelite.controllers.pods import Obj, meta

# upstream's MaxUncountedPods: keeps uncountedTerminatedPods near 20 KB at most
MAX_UNCOUNTED_PODS = 500

RemoveFinalizers = Callable[[list[Obj]], Awaitable[Any]]


class Tracker:
    def __init__(self, client: Client, resource: Resource, job: Obj, outcome: JobOutcome,
                 satisfied: bool, original_status: Obj) -> None:
        self.original_status = original_status  # as the lister had it
        self.client = client
        self.resource = resource
        self.job = job
        self.outcome = outcome
        self.satisfied = satisfied
        self.finished: Obj | None = None  # the terminal condition, once added
        self.more = False  # finished pods were left for the next sync

    async def track(self, remove_finalizers: RemoveFinalizers) -> None:
        job, out = self.job, self.outcome
        original = copy.deepcopy(self.original_status)
        status = job.setdefault("status", {})
        uncounted = status.get("uncountedTerminatedPods") or {}
        succeeded_uids = list(uncounted.get("succeeded") or ())
        failed_uids = list(uncounted.get("failed") or ())
        completions = out.completions or 0
        failing = out.finished is not None and out.finished["type"] == FAILURE_TARGET
        policy = out.spec.get("podFailurePolicy")
        to_remove: list[Obj] = []
        indexes = set(out.prev_succeeded_indexes)
        for pod in out.pods:
            uid = str(meta(pod).get("uid") or "")
            if not has_finalizer(pod) or uid in out.expected_removals:
                continue
            if len(succeeded_uids) + len(failed_uids) >= MAX_UNCOUNTED_PODS:
                self.more = True  # the status stays small; the next sync takes the rest
                break
            phase = (pod.get("status") or {}).get("phase")
            if phase in ("Succeeded", "Failed") or meta(pod).get("deletionTimestamp") \
                    or meta(job).get("deletionTimestamp"):
                to_remove.append(pod)
            if phase == "Succeeded" and uid not in failed_uids:
                if out.indexed:
                    if valid_index(pod, completions):
                        indexes.add(completion_index(pod))
                elif uid not in succeeded_uids:
                    succeeded_uids.append(uid)
            elif (is_failed(pod, job) or failing) and uid not in failed_uids and (
                    not out.indexed or valid_index(pod, completions)):
                if match_pod_failure_policy(policy, pod).count_failed:
                    failed_uids.append(uid)
        self._set_counters(status, succeeded_uids, failed_uids, indexes)
        await self._write_if_changed(original)
        removed = set(await remove_finalizers(to_remove)) if to_remove else set()

        status = job["status"]
        holding = {str(meta(p).get("uid") or "") for p in out.pods if has_finalizer(p)} - removed
        moved_succeeded = [u for u in succeeded_uids if u not in holding]
        moved_failed = [u for u in failed_uids if u not in holding]
        if not out.indexed:
            status["succeeded"] = int(status.get("succeeded") or 0) + len(moved_succeeded)
        status["failed"] = int(status.get("failed") or 0) + len(moved_failed)
        succeeded_uids = [u for u in succeeded_uids if u in holding]
        failed_uids = [u for u in failed_uids if u in holding]
        self._set_counters(status, succeeded_uids, failed_uids, indexes)
        self._enact_finished(status, not succeeded_uids and not failed_uids)
        await self._write_if_changed(original)

    def _set_counters(self, status: Obj, succeeded_uids: list[str], failed_uids: list[str],
                      indexes: set[int]) -> None:
        out = self.outcome
        uncounted: Obj = {}
        if succeeded_uids:
            uncounted["succeeded"] = succeeded_uids
        if failed_uids:
            uncounted["failed"] = failed_uids
        status["uncountedTerminatedPods"] = uncounted
        for name, value in (("active", out.active_count), ("succeeded", status.get("succeeded")),
                            ("failed", status.get("failed"))):
            if value:
                status[name] = int(value)
            else:
                status.pop(name, None)
        status["ready"] = out.ready
        status["terminating"] = out.terminating
        if out.indexed:
            status["completedIndexes"] = format_indexes(indexes)
            if indexes:
                status["succeeded"] = len(indexes)
            if not status["completedIndexes"]:
                status.pop("completedIndexes")
        if out.failed_indexes is not None:
            status["failedIndexes"] = format_indexes(out.failed_indexes)

    def _enact_finished(self, status: Obj, nothing_uncounted: bool) -> None:
        out = self.outcome
        if out.finished is None or not nothing_uncounted or not self.satisfied or self.more:
            return
        if out.active_count > 0 or out.terminating > 0:
            return  # a finished Job has no pod still running
        terminal = TERMINAL_OF[out.finished["type"]]
        ensure_condition(status, terminal, "True", out.finished["reason"],
                         out.finished["message"], out.now)
        if terminal == COMPLETE:
            status["completionTime"] = out.now_stamp
        self.finished = {"type": terminal, **{k: out.finished[k] for k in ("reason", "message")}}

    async def _write_if_changed(self, original: Obj) -> None:
        status = self.job["status"]
        if status == original:
            return
        written = await self.client.update_status(self.resource, self.job,
                                                  namespace=meta(self.job)["namespace"])
        self.job["metadata"] = written["metadata"]
        self.job["status"] = written.get("status") or {}
        original.clear()
        original.update(copy.deepcopy(self.job["status"]))

    def finished_events(self) -> list[tuple[str, str, str]]:
        if self.finished is None:
            return []
        if self.finished["type"] == COMPLETE:
            return [(NORMAL, "Completed", "Job completed")]
        return [(WARNING, self.finished["reason"], self.finished["message"])]
