"""batch/v1: upstream's printJob and printCronJob.

A Job's STATUS is the first that holds of: Complete, Failed, Terminating (being
deleted), Suspended, FailureTarget, else Running; a condition counts only when the
first condition of its type is True. DURATION runs from startTime to completionTime,
or to now while the Job runs; it is empty before the Job starts.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.printers.age import ZERO, human_duration, parse_time, since
from kubelite.apiserver.printers.cells import (
    NONE,
    bool_ptr,
    format_label_selector,
    get,
    int_of,
    meta,
    template_containers,
)
from kubelite.apiserver.printers.printer import (
    AGE,
    NAME,
    Obj,
    Printer,
    column,
    containers_column,
    images_column,
    selector_column,
)


def _job_condition(conditions: list[Obj], type_: str) -> bool:
    """hasJobCondition."""
    for condition in conditions:
        if condition.get("type") == type_:
            return condition.get("status") == "True"
    return False


def job_status(obj: Obj) -> str:
    conditions = get(obj, "status", "conditions") or []
    if _job_condition(conditions, "Complete"):
        return "Complete"
    if _job_condition(conditions, "Failed"):
        return "Failed"
    if meta(obj).get("deletionTimestamp"):
        return "Terminating"
    if _job_condition(conditions, "Suspended"):
        return "Suspended"
    if _job_condition(conditions, "FailureTarget"):
        return "FailureTarget"
    return "Running"


def job_completions(spec: Obj, status: Obj) -> str:
    succeeded = int_of(status.get("succeeded"))
    completions = spec.get("completions")
    if completions is not None:
        return f"{succeeded}/{int_of(completions)}"
    parallelism = int_of(spec.get("parallelism"))
    if parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def job_duration(status: Obj, now: int) -> str:
    start = parse_time(status.get("startTime"))
    if start == ZERO:
        return ""
    completion = parse_time(status.get("completionTime"))
    return human_duration((now if completion == ZERO else completion) - start)


def job_cells(obj: Obj, now: int) -> list[Any]:
    m, spec, status = meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(spec, "template")
    return [
        m.get("name") or "",
        job_status(obj),
        job_completions(spec, status),
        job_duration(status, now),
        since(m.get("creationTimestamp"), now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


JOB = Printer(
    columns=(
        NAME,
        column("Status", description="Status of the job."),
        column("Completions", description="The number of pods which reached phase Succeeded."),
        column("Duration", description="Time required to complete the job."),
        AGE,
        containers_column(),
        images_column(),
        selector_column("A label query over pods that should match the pod count."),
    ),
    cells=job_cells,
)


def cron_job_cells(obj: Obj, now: int) -> list[Any]:
    m, spec, status = meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    last_schedule = status.get("lastScheduleTime")
    job_spec = get(spec, "jobTemplate", "spec") or {}
    names, images = template_containers(job_spec, "template")
    time_zone = spec.get("timeZone")
    return [
        m.get("name") or "",
        spec.get("schedule") or "",
        NONE if time_zone is None else time_zone,
        bool_ptr(spec.get("suspend")),
        len(status.get("active") or ()),
        since(last_schedule, now) if last_schedule else NONE,
        since(m.get("creationTimestamp"), now),
        names,
        images,
        format_label_selector(job_spec.get("selector")),
    ]


CRON_JOB = Printer(
    columns=(
        NAME,
        column("Schedule", description="The schedule in Cron format."),
        column("Timezone", description="The time zone name for the given schedule."),
        column("Suspend", "boolean", "Whether subsequent executions are suspended."),
        column("Active", "integer", "The number of currently running jobs."),
        column("Last Schedule", description="When the job was last successfully scheduled."),
        AGE,
        containers_column(),
        images_column(),
        selector_column("A label query over pods that should match the pod count."),
    ),
    cells=cron_job_cells,
)

PRINTERS = {("batch", "Job"): JOB, ("batch", "CronJob"): CRON_JOB}
