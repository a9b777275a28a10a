"""From a proposed replica count to the one applied: stabilization and scaling rates
(upstream's horizontal.go normalizeDesiredReplicas[WithBehaviors] and
pkg/apis/autoscaling/v2/defaults.go).

`Recommendations` keeps, per HPA, the unstabilized proposals and the scale events of
this controller's lifetime (as upstream keeps them in memory; a new leader starts
empty). Times are seconds on any clock the caller chooses; tests pass their own.

Without `spec.behavior` (upstream's legacy path): the highest proposal of the last
`downscale_window` (5 min) applies, and a scale-up is capped at max(2 × current, 4).
With it (defaults filled as the API server's defaulting does):

- stabilization: the proposal is held between the lowest of the scale-up window and
  the highest of the scale-down window (scaleUp 0 s, scaleDown 300 s by default);
- rate: each policy allows, from the count at the start of its period (current minus
  what was added plus what was removed within periodSeconds), `Pods` more/fewer or a
  `Percent` more (rounded up) / fewer (rounded down); selectPolicy Max takes the most
  permissive, Min the least, Disabled forbids that direction. Defaults: scaleUp
  max(4 pods, 100%) per 15 s, scaleDown 100% per 15 s.

Every decision carries the AbleToScale and ScalingLimited reasons upstream sets.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

Obj = dict[str, Any]

DOWNSCALE_WINDOW = 300.0  # --horizontal-pod-autoscaler-downscale-stabilization
SCALE_UP_LIMIT_FACTOR = 2.0
SCALE_UP_LIMIT_MINIMUM = 4.0
DEFAULT_SCALE_UP: Obj = {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                         "policies": [{"type": "Pods", "value": 4, "periodSeconds": 15},
                                      {"type": "Percent", "value": 100, "periodSeconds": 15}]}
DEFAULT_SCALE_DOWN: Obj = {"selectPolicy": "Max",
                           "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
INT32_MAX = 2**31 - 1
INT32_MIN = -(2**31)


def default_rules(rules: Obj | None, defaults: Obj) -> Obj:
    """GenerateHPAScale{Up,Down}Rules: the defaults, with each field the rules give."""
    out = copy.deepcopy(defaults)
    for key in ("selectPolicy", "policies", "stabilizationWindowSeconds", "tolerance"):
        if rules and rules.get(key) is not None:
            out[key] = copy.deepcopy(rules[key])
    return out


def default_behavior(behavior: Obj | None, downscale_window: float = DOWNSCALE_WINDOW
                     ) -> Obj | None:
    """A behavior with every field filled (None stays None: the legacy path). The
    scale-down window, unset, is the controller's downscale window, as upstream's
    maybeInitScaleDownStabilizationWindow sets it."""
    if behavior is None:
        return None
    down = default_rules(behavior.get("scaleDown"), DEFAULT_SCALE_DOWN)
    down.setdefault("stabilizationWindowSeconds", int(downscale_window))
    return {"scaleUp": default_rules(behavior.get("scaleUp"), DEFAULT_SCALE_UP),
            "scaleDown": down}


@dataclass(frozen=True, slots=True)
class Decision:
    replicas: int
    able_reason: str  # AbleToScale True reason
    able_message: str
    limited: bool  # ScalingLimited status
    limited_reason: str
    limited_message: str


@dataclass(slots=True)
class ScaleEvent:
    change: int
    at: float
    outdated: bool = False


@dataclass(slots=True)
class History:
    recommendations: list[tuple[int, float]] = field(default_factory=list)
    ups: list[ScaleEvent] = field(default_factory=list)
    downs: list[ScaleEvent] = field(default_factory=list)


def _record(history: History, proposal: int, now: float, old: int | None) -> None:
    if old is not None:
        history.recommendations[old] = (proposal, now)
    else:
        history.recommendations.append((proposal, now))


def _within_range(desired: int, minimum: int, maximum: int, max_reason: tuple[str, str]
                  ) -> tuple[int, str, str]:
    if desired < minimum:
        return minimum, "TooFewReplicas", \
            "the desired replica count is less than the minimum replica count"
    if desired > maximum:
        return maximum, *max_reason
    return desired, "DesiredWithinRange", "the desired count is within the acceptable range"


class Recommendations:
    def __init__(self, downscale_window: float = DOWNSCALE_WINDOW) -> None:
        self.downscale_window = downscale_window
        self._by_key: dict[str, History] = {}

    def forget(self, key: str) -> None:
        self._by_key.pop(key, None)

    def initial(self, key: str, current: int, now: float) -> None:
        """recordInitialRecommendation: the first sync remembers the current count."""
        if key not in self._by_key:
            self._by_key[key] = History([(current, now)])

    def normalize(self, key: str, behavior: Obj | None, current: int, proposal: int,
                  minimum: int, maximum: int, now: float) -> Decision:
        history = self._by_key.setdefault(key, History())
        if behavior is None:
            return self._legacy(history, current, proposal, minimum, maximum, now)
        return self._with_behavior(history, behavior, current, proposal, minimum, maximum,
                                   now)

    def _legacy(self, history: History, current: int, proposal: int, minimum: int,
                maximum: int, now: float) -> Decision:
        stabilized, old = proposal, None
        cutoff = now - self.downscale_window
        for i, (replicas, at) in enumerate(history.recommendations):
            if at < cutoff:
                old = i
            elif replicas > stabilized:
                stabilized = replicas
        _record(history, proposal, now, old)
        if stabilized != proposal:
            able = ("ScaleDownStabilized", "recent recommendations were higher than current "
                    "one, applying the highest recent recommendation")
        else:
            able = ("ReadyForNewScale", "recommended size matches current size")
        limit = int(max(SCALE_UP_LIMIT_FACTOR * current, SCALE_UP_LIMIT_MINIMUM))
        if maximum > limit:
            max_reason = ("ScaleUpLimit", "the desired replica count is increasing faster "
                          "than the maximum scale rate")
        else:
            limit = maximum
            max_reason = ("TooManyReplicas",
                          "the desired replica count is more than the maximum replica count")
        desired, reason, message = _within_range(stabilized, minimum, limit, max_reason)
        return Decision(desired, *able, desired != stabilized, reason, message)

    def _with_behavior(self, history: History, behavior: Obj, current: int, proposal: int,
                       minimum: int, maximum: int, now: float) -> Decision:
        up, down = behavior["scaleUp"], behavior["scaleDown"]
        up_cutoff = now - float(up.get("stabilizationWindowSeconds") or 0)
        down_cutoff = now - float(down.get("stabilizationWindowSeconds") or 0)
        up_recommendation = down_recommendation = proposal
        old = None
        for i, (replicas, at) in enumerate(history.recommendations):
            if at > up_cutoff:
                up_recommendation = min(replicas, up_recommendation)
            if at > down_cutoff:
                down_recommendation = max(replicas, down_recommendation)
            if at < up_cutoff and at < down_cutoff:
                old = i
        stabilized = min(max(current, up_recommendation), down_recommendation)
        _record(history, proposal, now, old)
        if stabilized == proposal:
            able = ("ReadyForNewScale", "recommended size matches current size")
        elif proposal >= current:
            able = ("ScaleUpStabilized", "recent recommendations were lower than current "
                    "one, applying the lowest recent recommendation")
        else:
            able = ("ScaleDownStabilized", "recent recommendations were higher than current "
                    "one, applying the highest recent recommendation")
        desired, reason, message = self._rate_limited(history, up, down, current, stabilized,
                                                      minimum, maximum, now)
        return Decision(desired, *able, desired != stabilized, reason, message)

    def _rate_limited(self, history: History, up: Obj, down: Obj, current: int,
                      desired: int, minimum: int, maximum: int, now: float
                      ) -> tuple[int, str, str]:
        if desired > current:
            limit = max(scale_up_limit(current, history.ups, history.downs, up, now), current)
            if maximum > limit:
                if desired > limit:
                    return limit, "ScaleUpLimit", ("the desired replica count is increasing "
                                                   "faster than the maximum scale rate")
            elif desired > maximum:
                return maximum, "TooManyReplicas", \
                    "the desired replica count is more than the maximum replica count"
        elif desired < current:
            limit = min(scale_down_limit(current, history.ups, history.downs, down, now),
                        current)
            if minimum < limit:
                if desired < limit:
                    return limit, "ScaleDownLimit", ("the desired replica count is decreasing "
                                                     "faster than the maximum scale rate")
            elif desired < minimum:
                return minimum, "TooFewReplicas", \
                    "the desired replica count is less than the minimum replica count"
        return desired, "DesiredWithinRange", "the desired count is within the acceptable range"

    def record_scale(self, key: str, behavior: Obj | None, previous: int, new: int,
                     now: float) -> None:
        """storeScaleEvent: only with a behavior; an event older than the direction's
        longest policy period is outdated and its slot reused."""
        if behavior is None or new == previous:
            return
        history = self._by_key.setdefault(key, History())
        rules, events = (behavior["scaleUp"], history.ups) if new > previous else \
            (behavior["scaleDown"], history.downs)
        longest = max((int(p.get("periodSeconds") or 0) for p in rules.get("policies") or ()),
                      default=0)
        old = None
        for i, event in enumerate(events):
            if event.at < now - longest:
                event.outdated = True
            if event.outdated:
                old = i
        fresh = ScaleEvent(abs(new - previous), now)
        if old is not None:
            events[old] = fresh
        else:
            events.append(fresh)


def change_in_period(period: int, events: list[ScaleEvent], now: float) -> int:
    """getReplicasChangePerPeriod."""
    cutoff = now - period
    return sum(e.change for e in events if e.at > cutoff and not e.outdated)


def _period_start(current: int, policy: Obj, ups: list[ScaleEvent], downs: list[ScaleEvent],
                  now: float) -> int:
    period = int(policy.get("periodSeconds") or 0)
    return current - change_in_period(period, ups, now) + change_in_period(period, downs, now)


def scale_up_limit(current: int, ups: list[ScaleEvent], downs: list[ScaleEvent], rules: Obj,
                   now: float) -> int:
    """calculateScaleUpLimitWithScalingRules."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    result = INT32_MAX if select == "Min" else INT32_MIN
    pick = min if select == "Min" else max
    for policy in rules.get("policies") or ():
        start = _period_start(current, policy, ups, downs, now)
        value = int(policy.get("value") or 0)
        if policy.get("type") == "Pods":
            proposed = start + value
        else:
            proposed = math.ceil(start * (1 + value / 100))
        result = pick(result, proposed)
    return result


def scale_down_limit(current: int, ups: list[ScaleEvent], downs: list[ScaleEvent],
                     rules: Obj, now: float) -> int:
    """calculateScaleDownLimitWithBehaviors."""
    select = rules.get("selectPolicy") or "Max"
    if select == "Disabled":
        return current
    result = INT32_MIN if select == "Min" else INT32_MAX
    pick = max if select == "Min" else min
    for policy in rules.get("policies") or ():
        start = _period_start(current, policy, ups, downs, now)
        value = int(policy.get("value") or 0)
        if policy.get("type") == "Pods":
            proposed = start - value
        else:
            proposed = int(start * (1 - value / 100))
        result = pick(result, proposed)
    return result
