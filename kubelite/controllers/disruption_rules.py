"""The arithmetic of a PodDisruptionBudget's status (upstream's
pkg/controller/disruption/disruption.go and component-helpers' poddisruptionbudget),
over plain dicts, with no I/O.

    expected pods, desired healthy      from the spec and the pods' controllers' scale:
        maxUnavailable (int or %)       expected = sum of the controllers' replicas,
                                        desired = max(0, expected - ceil(maxUnavailable))
        minAvailable int                expected = the number of selected pods, desired = it
        minAvailable %                  expected = sum of the controllers' replicas,
                                        desired = ceil(minAvailable% of expected)
    disrupted pods                      the eviction subresource's entries kept while the
                                        pod exists, is not being deleted yet, and its
                                        entry is younger than DELETION_TIMEOUT
    current healthy                     selected pods Ready, not being deleted, not in
                                        the disrupted map
    disruptions allowed                 current - desired, never below 0, and 0 while no
                                        pod is expected (a budget that matches nothing
                                        yet must be safe when its first pods appear)

The DisruptionAllowed condition says the same as disruptionsAllowed: True /
SufficientPods when above zero, False / InsufficientPods otherwise, False / SyncFailed
when the status could not be computed (the fail-safe). A pod's DisruptionTarget
condition not followed by its deletion within STALE_DISRUPTION_TIMEOUT is stale.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any

from kubelite.controllers.pods import is_ready, meta
from kubelite.machinery.timestamps import format_time, parse_rfc3339

Obj = dict[str, Any]

DELETION_TIMEOUT = datetime.timedelta(minutes=2)
STALE_DISRUPTION_TIMEOUT = datetime.timedelta(minutes=2)

DISRUPTION_ALLOWED = "DisruptionAllowed"
SUFFICIENT_PODS = "SufficientPods"
INSUFFICIENT_PODS = "InsufficientPods"
SYNC_FAILED = "SyncFailed"
DISRUPTION_TARGET = "DisruptionTarget"
TERMINATION_BY_KUBELET = "TerminationByKubelet"


class BudgetError(ValueError):
    """The budget's numbers cannot be computed (a bad value, a pod with no controller
    whose scale is known): the fail-safe status follows."""


def scaled_value(value: int | str, total: int) -> int:
    """An int, or a percent of `total` rounded up (intstr.GetScaledValueFromIntOrPercent
    with roundUp, as both budget fields use it)."""
    if isinstance(value, bool):
        raise BudgetError(f"invalid value for IntOrString: invalid type: {value!r}")
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise BudgetError("invalid value for IntOrString: invalid type: string is not a "
                          "percentage")
    try:
        percent = int(value[:-1])
    except ValueError:
        raise BudgetError(f"invalid value for IntOrString: invalid value {value!r}") from None
    return math.ceil(percent * total / 100)


def needs_scale(spec: Obj) -> bool:
    """Whether the budget's numbers depend on the pods' controllers' scale."""
    if spec.get("maxUnavailable") is not None:
        return True
    return isinstance(spec.get("minAvailable"), str)


@dataclass(frozen=True, slots=True)
class Expected:
    expected_pods: int
    desired_healthy: int


def expected_counts(spec: Obj, pod_count: int, scale_total: int) -> Expected:
    """(expectedPods, desiredHealthy) for a budget selecting `pod_count` pods whose
    controllers want `scale_total` replicas together (read only when needs_scale)."""
    if spec.get("maxUnavailable") is not None:
        unavailable = scaled_value(spec["maxUnavailable"], scale_total)
        return Expected(scale_total, max(0, scale_total - unavailable))
    minimum = spec.get("minAvailable")
    if isinstance(minimum, str):
        return Expected(scale_total, scaled_value(minimum, scale_total))
    if minimum is not None:
        return Expected(pod_count, scaled_value(minimum, pod_count))
    return Expected(0, 0)  # neither field: upstream leaves both at zero


def _time(value: Any) -> datetime.datetime | None:
    return parse_rfc3339(str(value)) if value else None


def live_disrupted_pods(pods: list[Obj], disrupted: dict[str, Any], now: datetime.datetime
                        ) -> tuple[dict[str, Any], datetime.datetime | None]:
    """The disruptedPods entries to keep, and when the earliest kept one expires (the
    time to look again). Entries of pods gone or already being deleted are dropped (the
    deletion was seen); so are those older than DELETION_TIMEOUT (the eviction's delete
    never happened)."""
    kept: dict[str, Any] = {}
    recheck: datetime.datetime | None = None
    for pod in pods:
        m = meta(pod)
        name = str(m.get("name") or "")
        if m.get("deletionTimestamp") or name not in disrupted:
            continue
        since = _time(disrupted[name])
        if since is None:
            continue
        expires = since + DELETION_TIMEOUT
        if expires < now:
            continue
        kept[name] = disrupted[name]
        if recheck is None or expires < recheck:
            recheck = expires
    return kept, recheck


def expired_disruptions(pods: list[Obj], disrupted: dict[str, Any],
                        now: datetime.datetime) -> list[Obj]:
    """Pods whose disruptedPods entry expired without the pod being deleted (upstream
    records a NotDeleted warning on each)."""
    out = []
    for pod in pods:
        m = meta(pod)
        since = _time(disrupted.get(str(m.get("name") or "")))
        if not m.get("deletionTimestamp") and since is not None \
                and since + DELETION_TIMEOUT < now:
            out.append(pod)
    return out


def count_healthy(pods: list[Obj], disrupted: dict[str, Any], now: datetime.datetime) -> int:
    healthy = 0
    for pod in pods:
        m = meta(pod)
        if m.get("deletionTimestamp"):
            continue
        since = _time(disrupted.get(str(m.get("name") or "")))
        if since is not None and since + DELETION_TIMEOUT > now:
            continue  # evicted: its deletion is on the way
        if is_ready(pod):
            healthy += 1
    return healthy


def disruptions_allowed(current_healthy: int, desired_healthy: int, expected_pods: int) -> int:
    if expected_pods <= 0:
        return 0
    return max(0, current_healthy - desired_healthy)


def _condition(conditions: list[Obj], type_: str) -> Obj | None:
    for c in conditions:
        if isinstance(c, dict) and c.get("type") == type_:
            return c
    return None


def set_status_condition(conditions: list[Obj], new: Obj, now: datetime.datetime) -> list[Obj]:
    """apimachinery's meta.SetStatusCondition: the condition of `new`'s type takes its
    status, reason, message and observedGeneration; lastTransitionTime moves only when
    the status changes."""
    out = [c for c in conditions if not (isinstance(c, dict) and c.get("type") == new["type"])]
    old = _condition(conditions, new["type"])
    merged = {**new, "lastTransitionTime": format_time(now)}
    if old is not None and old.get("status") == new["status"] and old.get("lastTransitionTime"):
        merged["lastTransitionTime"] = old["lastTransitionTime"]
    index = next((i for i, c in enumerate(conditions)
                  if isinstance(c, dict) and c.get("type") == new["type"]), len(out))
    out.insert(index, merged)
    return out


def disruption_allowed_condition(status: Obj, now: datetime.datetime) -> list[Obj]:
    """pdbhelper.UpdateDisruptionAllowedCondition: `status`'s conditions with
    DisruptionAllowed saying what disruptionsAllowed says."""
    allowed = int(status.get("disruptionsAllowed") or 0) > 0
    return set_status_condition(list(status.get("conditions") or []), {
        "type": DISRUPTION_ALLOWED, "status": "True" if allowed else "False",
        "reason": SUFFICIENT_PODS if allowed else INSUFFICIENT_PODS, "message": "",
        "observedGeneration": int(status.get("observedGeneration") or 0)}, now)


def conditions_up_to_date(pdb: Obj) -> bool:
    """pdbhelper.ConditionsAreUpToDate."""
    status = pdb.get("status") or {}
    cond = _condition(list(status.get("conditions") or []), DISRUPTION_ALLOWED)
    if cond is None or status.get("observedGeneration") != meta(pdb).get("generation"):
        return False
    if int(status.get("disruptionsAllowed") or 0) > 0:
        return (cond.get("status"), cond.get("reason")) == ("True", SUFFICIENT_PODS)
    return (cond.get("status"), cond.get("reason")) == ("False", INSUFFICIENT_PODS)


@dataclass(slots=True)
class BudgetStatus:
    current_healthy: int
    desired_healthy: int
    expected_pods: int
    disrupted_pods: dict[str, Any] = field(default_factory=dict)

    @property
    def disruptions_allowed(self) -> int:
        return disruptions_allowed(self.current_healthy, self.desired_healthy,
                                   self.expected_pods)


def new_status(pdb: Obj, computed: BudgetStatus, now: datetime.datetime) -> Obj | None:
    """The status to write (upstream's updatePdbStatus), or None when the present one
    already says all of it."""
    old = pdb.get("status") or {}
    generation = int(meta(pdb).get("generation") or 0)
    if (int(old.get("currentHealthy") or 0) == computed.current_healthy
            and int(old.get("desiredHealthy") or 0) == computed.desired_healthy
            and int(old.get("expectedPods") or 0) == computed.expected_pods
            and int(old.get("disruptionsAllowed") or 0) == computed.disruptions_allowed
            and (old.get("disruptedPods") or {}) == computed.disrupted_pods
            and old.get("observedGeneration") == generation
            and conditions_up_to_date(pdb)):
        return None
    status: Obj = {"currentHealthy": computed.current_healthy,
                   "desiredHealthy": computed.desired_healthy,
                   "expectedPods": computed.expected_pods,
                   "disruptionsAllowed": computed.disruptions_allowed,
                   "observedGeneration": generation,
                   "conditions": list(old.get("conditions") or [])}
    if computed.disrupted_pods:
        status["disruptedPods"] = dict(computed.disrupted_pods)
    status["conditions"] = disruption_allowed_condition(status, now)
    return status


def fail_safe_status(pdb: Obj, message: str, now: datetime.datetime) -> Obj:
    """disruptionsAllowed 0 and DisruptionAllowed False / SyncFailed (upstream's
    failSafe), the rest of the status kept: an eviction is refused while the budget's
    numbers are unknown."""
    old = dict(pdb.get("status") or {})
    old["disruptionsAllowed"] = 0
    old["conditions"] = set_status_condition(list(old.get("conditions") or []), {
        "type": DISRUPTION_ALLOWED, "status": "False", "reason": SYNC_FAILED,
        "message": message, "observedGeneration": int(old.get("observedGeneration") or 0)},
        now)
    return old


def stale_disruption_wait(pod: Obj, now: datetime.datetime,
                          timeout: datetime.timedelta = STALE_DISRUPTION_TIMEOUT
                          ) -> float | None:
    """Seconds until the pod's DisruptionTarget condition is stale (<= 0: it is now);
    None when it has none to clean up: no True condition, the pod is being deleted or
    finished, or the kubelet set it (its termination may take arbitrarily long)."""
    if meta(pod).get("deletionTimestamp"):
        return None
    status = pod.get("status") or {}
    cond = _condition(list(status.get("conditions") or []), DISRUPTION_TARGET)
    if cond is None or cond.get("status") != "True" \
            or cond.get("reason") == TERMINATION_BY_KUBELET \
            or status.get("phase") in ("Succeeded", "Failed"):
        return None
    since = _time(cond.get("lastTransitionTime"))
    if since is None:
        return 0.0  # no transition time: upstream's zero time, long past
    return max(0.0, (since + timeout - now).total_seconds())
