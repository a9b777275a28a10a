"""Jobs and CronJobs (pkg/apis/batch/v1/defaults.go, pkg/registry/batch/*/strategy.go).

A Job without `manualSelector: true` gets upstream's generated selector
(`batch.kubernetes.io/controller-uid: <uid>`) and template labels (controller-uid,
job-name and their batch.kubernetes.io/ forms); this needs metadata.uid, which the store
sets before defaulting. Pod templates must restart OnFailure or Never. CronJob
schedules are checked with the controller's cron grammar (see cron.py); a TZ in the
schedule is refused in favour of spec.timeZone, as upstream does.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.registry.strategy import DefaultStrategy, spec_of
from kubelite.machinery.errors import Cause

from .causes import immutable, invalid, nonnegative, not_supported, path, required
from .cron import schedule_errors
from .names import cronjob_name
from .podspec import default_pod_spec
from .podvalidation import validate_pod_spec
from .selectors import is_empty, selector_matches

Obj = dict[str, Any]
MAX_INT32 = 2**31 - 1
CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"
JOB_RESTART_POLICIES = ("OnFailure", "Never")


def default_job_spec_template(spec: Obj) -> None:
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        default_pod_spec(template["spec"])


def generate_selector(job: Obj) -> None:
    """generateSelector: label the template and select by controller uid (idempotent)."""
    meta = job.get("metadata") or {}
    uid, name = meta.get("uid") or "", meta.get("name") or ""
    spec = spec_of(job)
    template = spec.setdefault("template", {})
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    for key in (LEGACY_JOB_NAME, JOB_NAME):
        labels.setdefault(key, name)
    for key in (LEGACY_CONTROLLER_UID, CONTROLLER_UID):
        labels.setdefault(key, uid)
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    selector.setdefault("matchLabels", {}).setdefault(CONTROLLER_UID, uid)


class JobStrategy(DefaultStrategy):
    has_status = True
    tracks_generation = True
    initial_status = {}

    def default(self, job: Obj) -> None:
        spec = spec_of(job)
        if spec.get("completions") is None and spec.get("parallelism") is None:
            spec["completions"] = 1
            spec["parallelism"] = 1
        if spec.get("parallelism") is None:
            spec["parallelism"] = 1
        if spec.get("backoffLimit") is None:
            spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels")
        meta = job.setdefault("metadata", {})
        if template_labels and not meta.get("labels"):
            meta["labels"] = dict(template_labels)
        if spec.get("completionMode") is None:
            spec["completionMode"] = "NonIndexed"
        if spec.get("suspend") is None:
            spec["suspend"] = False
        if spec.get("podReplacementPolicy") is None:
            spec["podReplacementPolicy"] = (
                "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed")
        for rule in (spec.get("podFailurePolicy") or {}).get("rules") or ():
            for pattern in rule.get("onPodConditions") or ():
                pattern.setdefault("status", "True")
        if not spec.get("manualSelector") and meta.get("uid"):
            generate_selector(job)
        default_job_spec_template(spec)

    def validate(self, job: Obj) -> list[Cause]:
        spec = job.get("spec") or {}
        causes: list[Cause] = []
        if not spec.get("manualSelector"):
            causes += _validate_generated_selector(job)
        causes += validate_job_spec(spec, "spec", with_selector=True)
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        spec, old_spec = new.get("spec") or {}, old.get("spec") or {}
        causes: list[Cause] = []
        if spec.get("selector") != old_spec.get("selector"):
            causes.append(immutable("spec.selector", spec.get("selector")))
        if spec.get("completionMode") != old_spec.get("completionMode"):
            causes.append(immutable("spec.completionMode", spec.get("completionMode")))
        elastic = spec.get("completionMode") == "Indexed" and spec.get("completions") == spec.get("parallelism")
        if spec.get("completions") != old_spec.get("completions") and not elastic:
            causes.append(immutable("spec.completions", spec.get("completions")))
        # A suspended Job that never ran may change its template's scheduling directives;
        # this keeps the simpler rule of letting a suspended Job change its template.
        if spec.get("template") != old_spec.get("template") and not old_spec.get("suspend"):
            causes.append(immutable("spec.template", spec.get("template")))
        return causes

    def selectable_fields(self, job: Obj) -> dict[str, str]:
        return {"status.successful": str((job.get("status") or {}).get("succeeded", 0))}


def _validate_generated_selector(job: Obj) -> list[Cause]:
    meta = job.get("metadata") or {}
    uid = meta.get("uid") or ""
    if not uid:
        return [required("metadata.uid")]
    spec = job.get("spec") or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    causes: list[Cause] = []
    for key, want in ((LEGACY_CONTROLLER_UID, uid), (CONTROLLER_UID, uid),
                      (LEGACY_JOB_NAME, meta.get("name", "")), (JOB_NAME, meta.get("name", ""))):
        field = f"spec.template.metadata.labels[{key}]"
        if key not in labels:
            causes.append(required(field, f"must be '{want}'"))
        elif labels[key] != want:
            causes.append(invalid(field, labels, f"must be '{want}'"))
    if spec.get("selector") != {"matchLabels": {CONTROLLER_UID: uid}}:
        causes.append(invalid("spec.selector", spec.get("selector"), "`selector` not auto-generated"))
    return causes


def validate_job_spec(spec: Obj, base: str, *, with_selector: bool) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("parallelism", "completions", "backoffLimit"):
        if spec.get(key) is not None:
            causes += nonnegative(path(base, key), spec[key])
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and deadline <= 0:
        causes.append(invalid(path(base, "activeDeadlineSeconds"), deadline, "must be greater than 0"))
    mode = spec.get("completionMode")
    if mode is not None and mode not in ("NonIndexed", "Indexed"):
        causes.append(not_supported(path(base, "completionMode"), mode, ["NonIndexed", "Indexed"]))
    if mode == "Indexed" and spec.get("completions") is None:
        causes.append(required(path(base, "completions"), "when completion mode is Indexed"))
    template = spec.get("template")
    if not isinstance(template, dict):
        return causes + [required(path(base, "template"))]
    labels = (template.get("metadata") or {}).get("labels") or {}
    selector = spec.get("selector")
    if with_selector:
        if selector is None:
            causes.append(required(path(base, "selector")))
        elif not is_empty(selector) and not selector_matches(selector, labels):
            causes.append(invalid(path(base, "template", "metadata", "labels"), labels,
                                  "`selector` does not match template `labels`"))
    template_spec = template.get("spec") or {}
    causes += validate_pod_spec(template_spec, path(base, "template", "spec"))
    policy = template_spec.get("restartPolicy")
    if policy not in JOB_RESTART_POLICIES:
        causes.append(not_supported(path(base, "template", "spec", "restartPolicy"), policy,
                                    JOB_RESTART_POLICIES))
    return causes


class CronJobStrategy(DefaultStrategy):
    has_status = True
    tracks_generation = True
    initial_status = {}

    def validate_name(self, name: str, prefix: bool = False) -> list[str]:
        return cronjob_name(name, prefix)

    def default(self, cronjob: Obj) -> None:
        spec = spec_of(cronjob)
        if not spec.get("concurrencyPolicy"):
            spec["concurrencyPolicy"] = "Allow"
        if spec.get("suspend") is None:
            spec["suspend"] = False
        if spec.get("successfulJobsHistoryLimit") is None:
            spec["successfulJobsHistoryLimit"] = 3
        if spec.get("failedJobsHistoryLimit") is None:
            spec["failedJobsHistoryLimit"] = 1
        job_spec = (spec.get("jobTemplate") or {}).get("spec")
        if isinstance(job_spec, dict):
            default_job_spec_template(job_spec)

    def validate(self, cronjob: Obj) -> list[Cause]:
        spec = cronjob.get("spec") or {}
        causes: list[Cause] = []
        schedule = spec.get("schedule") or ""
        if not schedule:
            causes.append(required("spec.schedule"))
        elif "TZ" in schedule:
            causes.append(invalid("spec.schedule", schedule,
                                  "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
        else:
            causes += [invalid("spec.schedule", schedule, msg) for msg in schedule_errors(schedule)]
        policy = spec.get("concurrencyPolicy")
        if policy not in ("Allow", "Forbid", "Replace"):
            causes.append(not_supported("spec.concurrencyPolicy", policy, ["Allow", "Forbid", "Replace"]))
        for key in ("startingDeadlineSeconds", "successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
            if spec.get(key) is not None:
                causes += nonnegative(path("spec", key), spec[key])
        job_spec = (spec.get("jobTemplate") or {}).get("spec")
        if not isinstance(job_spec, dict):
            causes.append(required("spec.jobTemplate.spec"))
        else:
            causes += validate_job_spec(job_spec, "spec.jobTemplate.spec", with_selector=False)
        return causes
