"""Probe results and the thresholds between a probe's answers and what the kubelet
believes, as upstream's prober results and worker.go's doProbe.

A probe answers SUCCESS, FAILURE or UNKNOWN each period; the belief changes only
after successThreshold successes or failureThreshold failures in a row. A liveness
or startup failure that crosses its threshold puts the worker on hold: the container
is going to be restarted, and nothing more is probed until a new one runs.

Before any answer a readiness probe believes FAILURE (not ready), a liveness probe
SUCCESS (alive) and a startup probe UNKNOWN (not started), as upstream's initial values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]


class Result(enum.Enum):
    SUCCESS = "Success"
    FAILURE = "Failure"
    UNKNOWN = "Unknown"


class ProbeType(enum.Enum):
    LIVENESS = "Liveness"
    READINESS = "Readiness"
    STARTUP = "Startup"

    @property
    def field(self) -> str:
        return {"Liveness": "livenessProbe", "Readiness": "readinessProbe",
                "Startup": "startupProbe"}[self.value]


INITIAL = {ProbeType.READINESS: Result.FAILURE, ProbeType.LIVENESS: Result.SUCCESS,
           ProbeType.STARTUP: Result.UNKNOWN}


def _positive(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else default


@dataclass(frozen=True)
class Timing:
    """A probe's numbers with upstream's defaults (the API server sets them too)."""

    initial_delay: int = 0
    period: int = 10
    timeout: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3

    @classmethod
    def of(cls, probe: Obj) -> Timing:
        delay = probe.get("initialDelaySeconds")
        return cls(initial_delay=_positive(delay, 0),
                   period=_positive(probe.get("periodSeconds"), 10),
                   timeout=_positive(probe.get("timeoutSeconds"), 1),
                   success_threshold=_positive(probe.get("successThreshold"), 1),
                   failure_threshold=_positive(probe.get("failureThreshold"), 3))


@dataclass
class Thresholds:
    """One worker's run of answers and the belief they have earned."""

    probe_type: ProbeType
    timing: Timing
    belief: Result = field(init=False)
    last: Result | None = None
    run: int = 0
    on_hold: bool = False

    def __post_init__(self) -> None:
        self.belief = INITIAL[self.probe_type]

    def observe(self, answer: Result) -> bool:
        """Count one answer; returns whether the belief changed."""
        if self.on_hold:
            return False
        if answer == self.last:
            self.run += 1
        else:
            self.last, self.run = answer, 1
        if (answer is Result.FAILURE and self.run < self.timing.failure_threshold) or \
                (answer is Result.SUCCESS and self.run < self.timing.success_threshold):
            return False
        changed = answer != self.belief
        self.belief = answer
        if answer is Result.FAILURE and self.probe_type is not ProbeType.READINESS:
            self.on_hold, self.run = True, 0  # the container is restarted; wait for the next
        return changed

    def force(self, result: Result) -> bool:
        """Set the belief regardless of thresholds (a container that stopped running,
        a pod shutting down); returns whether it changed."""
        changed = result != self.belief
        self.belief = result
        return changed
