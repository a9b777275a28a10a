"""PodDisruptionBudgets, PriorityClasses and HorizontalPodAutoscalers.

PDBs track generation and start with upstream's zero status (the four counters are not
omitempty). PriorityClass values above one billion are reserved for system classes and
never change. HPAs (autoscaling/v2) default minReplicas to 1, the metric to CPU at 80%
utilization, and fill a given `behavior` with the default scaling rules.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.registry.strategy import DefaultStrategy, spec_of
from kubelite.machinery.errors import Cause

from .causes import forbidden, invalid, nonnegative, not_supported, required

Obj = dict[str, Any]
HIGHEST_USER_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}


def _int_or_percent_causes(value: Any, field: str) -> list[Cause]:
    if isinstance(value, str):
        if not (value.endswith("%") and value[:-1].isdigit()):
            return [invalid(field, value, "a valid percent string must be a numeric string followed "
                            "by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")]
        if int(value[:-1]) > 100:
            return [invalid(field, value, "must not be greater than 100%")]
        return []
    return nonnegative(field, value)


class PodDisruptionBudgetStrategy(DefaultStrategy):
    has_status = True
    tracks_generation = True
    initial_status = {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}

    def validate(self, pdb: Obj) -> list[Cause]:
        spec = pdb.get("spec") or {}
        causes: list[Cause] = []
        if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
            causes.append(invalid("spec", spec, "minAvailable and maxUnavailable cannot be both set"))
        for key in ("minAvailable", "maxUnavailable"):
            if spec.get(key) is not None:
                causes += _int_or_percent_causes(spec[key], f"spec.{key}")
        policy = spec.get("unhealthyPodEvictionPolicy")
        if policy is not None and policy not in ("IfHealthyBudget", "AlwaysAllow"):
            causes.append(not_supported("spec.unhealthyPodEvictionPolicy", policy,
                                        ["AlwaysAllow", "IfHealthyBudget"]))
        return causes


class PriorityClassStrategy(DefaultStrategy):
    def default(self, pc: Obj) -> None:
        if not pc.get("preemptionPolicy"):
            pc["preemptionPolicy"] = "PreemptLowerPriority"

    def validate(self, pc: Obj) -> list[Cause]:
        name = (pc.get("metadata") or {}).get("name") or ""
        value = pc.get("value", 0)
        causes: list[Cause] = []
        if name in SYSTEM_PRIORITY_CLASSES:
            if value != SYSTEM_PRIORITY_CLASSES[name]:
                causes.append(forbidden("metadata.name", f"{name} is a system priority class and "
                                        "its value cannot be changed"))
        elif name.startswith("system-"):
            causes.append(forbidden("metadata.name", "priority class names with 'system-' prefix are "
                                    "reserved for system use only"))
        elif isinstance(value, int) and value > HIGHEST_USER_PRIORITY:
            causes.append(forbidden("value", "maximum allowed value of a user defined priority is "
                                    f"{HIGHEST_USER_PRIORITY}"))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = []
        if new.get("value") != old.get("value"):
            causes.append(forbidden("value", "may not be changed in an update."))
        if new.get("preemptionPolicy") != old.get("preemptionPolicy"):
            causes.append(invalid("preemptionPolicy", new.get("preemptionPolicy"), "field is immutable"))
        return causes


def _scale_up_rules(rules: Obj | None) -> Obj:
    rules = dict(rules or {})
    rules.setdefault("stabilizationWindowSeconds", 0)
    rules.setdefault("selectPolicy", "Max")
    if not rules.get("policies"):
        rules["policies"] = [{"type": "Pods", "value": 4, "periodSeconds": 15},
                             {"type": "Percent", "value": 100, "periodSeconds": 15}]
    return rules


def _scale_down_rules(rules: Obj | None) -> Obj:
    rules = dict(rules or {})
    rules.setdefault("selectPolicy", "Max")
    if not rules.get("policies"):
        rules["policies"] = [{"type": "Percent", "value": 100, "periodSeconds": 15}]
    return rules


class HorizontalPodAutoscalerStrategy(DefaultStrategy):
    has_status = True
    initial_status = {"desiredReplicas": 0}

    def default(self, hpa: Obj) -> None:
        spec = spec_of(hpa)
        if spec.get("minReplicas") is None:
            spec["minReplicas"] = 1
        if not spec.get("metrics"):
            spec["metrics"] = [{"type": "Resource", "resource": {
                "name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}}]
        behavior = spec.get("behavior")
        if isinstance(behavior, dict):
            behavior["scaleUp"] = _scale_up_rules(behavior.get("scaleUp"))
            behavior["scaleDown"] = _scale_down_rules(behavior.get("scaleDown"))

    def validate(self, hpa: Obj) -> list[Cause]:
        spec = hpa.get("spec") or {}
        causes: list[Cause] = []
        ref = spec.get("scaleTargetRef") or {}
        for key in ("kind", "name"):
            if not ref.get(key):
                causes.append(required(f"spec.scaleTargetRef.{key}"))
        minimum, maximum = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
        if isinstance(minimum, int) and minimum < 1:
            causes.append(invalid("spec.minReplicas", minimum, "must be greater than or equal to 1"))
        if isinstance(maximum, int) and maximum < 1:
            causes.append(invalid("spec.maxReplicas", maximum, "must be greater than 0"))
        elif isinstance(minimum, int) and isinstance(maximum, int) and maximum < minimum:
            causes.append(invalid("spec.maxReplicas", maximum,
                                  "must be greater than or equal to `minReplicas`"))
        return causes
