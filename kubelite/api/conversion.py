"""Showing an object stored in one version through another version of its group.

Most kinds kubelite serves in several versions differ only in `apiVersion`. Where the
schemas really differ, a converter per (group, kind) maps between the storage version
and the others. autoscaling/v1 HorizontalPodAutoscaler is the one built-in case: its
`targetCPUUtilizationPercentage` is a v2 `metrics` entry, and what v1 cannot express is
kept in an annotation so that a round trip through v1 loses nothing, as upstream does
(pkg/apis/autoscaling/v1/conversion.go).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import orjson

from kubelite.api.catalogue import ResourceSpec

Obj = dict[str, Any]
Converter = Callable[[Obj, str], Obj]

HPA_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/metrics"
HPA_CURRENT_METRICS_ANNOTATION = "autoscaling.alpha.kubernetes.io/current-metrics"
HPA_CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"


def convert(spec: ResourceSpec, obj: Obj, version: str) -> Obj:
    """`obj` (any served version) as `version` shows it; `obj` is not modified."""
    api_version = spec.gvk(version).api_version
    if obj.get("apiVersion") == api_version:
        return obj
    converter = _CONVERTERS.get((spec.group, spec.kind))
    if converter is not None:
        return converter(obj, version)
    return {**obj, "apiVersion": api_version}


def to_storage(spec: ResourceSpec, obj: Obj) -> Obj:
    """`obj` as it is stored: in the storage version, or in the aliased resource's form
    (events.k8s.io/v1 Events are stored as core/v1 Events)."""
    if spec.storage_alias == ("", "events"):
        return _event_to_core(obj)
    return convert(spec, obj, spec.storage_version)


# events.k8s.io/v1 field <- core/v1 field (pkg/apis/events/v1 conversion upstream)
_EVENT_RENAMES = (("regarding", "involvedObject"), ("note", "message"),
                  ("deprecatedSource", "source"),
                  ("deprecatedFirstTimestamp", "firstTimestamp"),
                  ("deprecatedLastTimestamp", "lastTimestamp"),
                  ("deprecatedCount", "count"), ("reportingController", "reportingComponent"))


def _event(obj: Obj, version: str) -> Obj:
    if obj.get("apiVersion") == "v1":
        out = {k: v for k, v in obj.items() if k not in {c for _, c in _EVENT_RENAMES}}
        for new, old in _EVENT_RENAMES:
            if old in obj:
                out[new] = obj[old]
        out["apiVersion"] = f"events.k8s.io/{version}"
        return out
    return {**obj, "apiVersion": f"events.k8s.io/{version}"}


def _event_to_core(obj: Obj) -> Obj:
    if obj.get("apiVersion") == "v1":
        return obj
    out = {k: v for k, v in obj.items() if k not in {n for n, _ in _EVENT_RENAMES}}
    for new, old in _EVENT_RENAMES:
        if new in obj:
            out[old] = obj[new]
    out["apiVersion"] = "v1"
    return out


def _hpa(obj: Obj, version: str) -> Obj:
    out = copy.deepcopy(obj)
    out["apiVersion"] = f"autoscaling/{version}"
    if version == "v1":
        return _hpa_to_v1(out)
    return _hpa_to_v2(out)


def _hpa_to_v1(obj: Obj) -> Obj:
    spec = obj.get("spec") or {}
    metrics = spec.pop("metrics", None) or []
    behavior = spec.pop("behavior", None)
    others = []
    for m in metrics:
        target = (m.get("resource") or {}).get("target") or {}
        if (m.get("type") == "Resource" and m["resource"].get("name") == "cpu"
                and target.get("type") == "Utilization"
                and "targetCPUUtilizationPercentage" not in spec):
            spec["targetCPUUtilizationPercentage"] = target.get("averageUtilization")
        else:
            others.append(m)
    annotations = obj.setdefault("metadata", {}).setdefault("annotations", {})
    if others:
        annotations[HPA_METRICS_ANNOTATION] = orjson.dumps(others).decode()
    if behavior:
        annotations["autoscaling.alpha.kubernetes.io/behavior"] = orjson.dumps(behavior).decode()
    # v1's currentReplicas and desiredReplicas are not omitempty: always present.
    status = obj.setdefault("status", {})
    status.setdefault("currentReplicas", 0)
    status.setdefault("desiredReplicas", 0)
    current = status.pop("currentMetrics", None) or []
    conditions = status.pop("conditions", None)
    for m in current:
        cur = (m.get("resource") or {}).get("current") or {}
        if m.get("type") == "Resource" and m["resource"].get("name") == "cpu" and \
                "averageUtilization" in cur:
            status["currentCPUUtilizationPercentage"] = cur["averageUtilization"]
    if conditions:
        annotations[HPA_CONDITIONS_ANNOTATION] = orjson.dumps(conditions).decode()
    if not annotations:
        obj["metadata"].pop("annotations")
    return obj


def _hpa_to_v2(obj: Obj) -> Obj:
    spec = obj.get("spec") or {}
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    metrics: list[Obj] = []
    cpu = spec.pop("targetCPUUtilizationPercentage", None)
    if cpu is not None:
        metrics.append({"type": "Resource", "resource": {
            "name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu}}})
    if HPA_METRICS_ANNOTATION in annotations:
        metrics.extend(orjson.loads(annotations.pop(HPA_METRICS_ANNOTATION)))
    if "autoscaling.alpha.kubernetes.io/behavior" in annotations:
        spec["behavior"] = orjson.loads(annotations.pop("autoscaling.alpha.kubernetes.io/behavior"))
    if metrics:
        spec["metrics"] = metrics
    status = obj.get("status")
    if status is not None:
        cur = status.pop("currentCPUUtilizationPercentage", None)
        if cur is not None:
            status["currentMetrics"] = [{"type": "Resource", "resource": {
                "name": "cpu", "current": {"averageUtilization": cur}}}]
        if HPA_CONDITIONS_ANNOTATION in annotations:
            status["conditions"] = orjson.loads(annotations.pop(HPA_CONDITIONS_ANNOTATION))
    annotations.pop(HPA_CURRENT_METRICS_ANNOTATION, None)
    if "metadata" in obj and not annotations:
        obj["metadata"].pop("annotations", None)
    return obj


_CONVERTERS: dict[tuple[str, str], Converter] = {
    ("autoscaling", "HorizontalPodAutoscaler"): _hpa,
    ("events.k8s.io", "Event"): _event,
}
