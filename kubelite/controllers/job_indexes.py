"""Completion indexes of Indexed Jobs (upstream's pkg/controller/job/indexed_job_utils.go).

An Indexed Job of `completions: N` runs one pod per index 0..N-1 until every index has
succeeded once. A pod carries its index in the annotation (and, since 1.28, the label)
`batch.kubernetes.io/job-completion-index`, its hostname `<job>-<index>`, its
generateName `<job>-<index>-`, and the env var JOB_COMPLETION_INDEX read from that
annotation. With backoffLimitPerIndex it also carries
`batch.kubernetes.io/job-index-failure-count`.

Sets of indexes travel in the Job's status as interval strings, upstream's
orderedIntervals.String(): sorted, runs of three or more as `a-b`, a run of two as `a,b`
(`0-4`, `1,2`, `0,3-5`). Parsing drops what does not parse and what is out of range.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from kubelite.controllers.pods import Obj, meta

COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
INDEX_ENV = "JOB_COMPLETION_INDEX"
UNKNOWN_INDEX = -1


def completion_index(pod: Obj) -> int:
    """The pod's index from its annotation (upstream's getCompletionIndex: the annotation
    only, not the label); UNKNOWN_INDEX when absent or not a non-negative int."""
    text = (meta(pod).get("annotations") or {}).get(COMPLETION_INDEX)
    if not isinstance(text, str) or not text.isdigit():
        return UNKNOWN_INDEX
    return int(text)


def valid_index(pod: Obj, completions: int) -> bool:
    return 0 <= completion_index(pod) < completions


def format_indexes(indexes: Iterable[int]) -> str:
    ordered = sorted(set(indexes))
    parts: list[str] = []
    i = 0
    while i < len(ordered):
        first = last = ordered[i]
        while i + 1 < len(ordered) and ordered[i + 1] == last + 1:
            i += 1
            last = ordered[i]
        if last == first:
            parts.append(str(first))
        elif last == first + 1:
            parts.append(f"{first},{last}")
        else:
            parts.append(f"{first}-{last}")
        i += 1
    return ",".join(parts)


def parse_indexes(text: str | None, completions: int) -> set[int]:
    """Indexes in an interval string below `completions`; what does not parse is
    skipped (upstream's parseIndexesFromString logs and goes on)."""
    out: set[int] = set()
    for part in (text or "").split(","):
        bounds = part.split("-")
        if len(bounds) > 2 or not all(b.isdigit() for b in bounds):
            continue
        first, last = int(bounds[0]), int(bounds[-1])
        out.update(range(first, min(last, completions - 1) + 1))
    return out


def first_pending_indexes(completions: int, count: int, taken: set[int]) -> list[int]:
    """The `count` lowest indexes neither succeeded, failed nor held by an active pod."""
    out: list[int] = []
    for ix in range(completions):
        if len(out) == count:
            break
        if ix not in taken:
            out.append(ix)
    return out


def indexed_template(template: Obj, job_name: str, index: int, *,
                     failure_count: int | None = None) -> Obj:
    """The pod template of one index: annotation, label, hostname and env."""
    out = copy.deepcopy(template)
    template_meta = out.setdefault("metadata", {})
    template_meta["annotations"] = {**(template_meta.get("annotations") or {}),
                                    COMPLETION_INDEX: str(index)}
    if failure_count is not None:
        template_meta["annotations"][INDEX_FAILURE_COUNT] = str(failure_count)
    template_meta["labels"] = {**(template_meta.get("labels") or {}), COMPLETION_INDEX: str(index)}
    spec = out.setdefault("spec", {})
    spec["hostname"] = f"{job_name}-{index}"
    env_var = {"name": INDEX_ENV, "valueFrom": {"fieldRef": {
        "fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}}}
    for container in [*(spec.get("initContainers") or ()), *(spec.get("containers") or ())]:
        env = container.setdefault("env", [])
        if not any(e.get("name") == INDEX_ENV for e in env):
            env.append(copy.deepcopy(env_var))
    return out


def index_generate_name(job_name: str, index: int) -> str:
    """`<job>-<index>-`, cut like upstream's podGenerateNameWithIndex so the name the
    server appends five characters to stays within 63."""
    suffix = f"-{index}-"
    limit = 63 - 5  # the random suffix
    return job_name[:max(0, limit - len(suffix))] + suffix


def index_failure_count(pod: Obj) -> int:
    text = (meta(pod).get("annotations") or {}).get(INDEX_FAILURE_COUNT)
    return int(text) if isinstance(text, str) and text.isdigit() else 0
