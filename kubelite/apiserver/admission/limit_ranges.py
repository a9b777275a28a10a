"""LimitRange's rules (plugin/pkg/admission/limitranger/admission.go upstream), pure.

- Defaults: a LimitRange's `Container` items give each container (and init
  container) the `default` limits and `defaultRequest` requests it does not state;
  what was filled in is recorded in the `kubernetes.io/limit-ranger` annotation
  (`LimitRanger plugin set: cpu request for container web; cpu, memory limit for
  container web`).
- Validation: `min`, `max` and `maxLimitRequestRatio` per Container (each container
  and init container), per Pod (the pod's total, pod_resources.py) and, for `min`
  and `max` of storage requests, per PersistentVolumeClaim. Every violation is
  reported, in upstream's words, one list per LimitRange: one message alone, several
  as `[a, b]` (utilerrors.NewAggregate).

Values are compared as upstream compares them: in milli-units when all three fit an
int64 that way, else in whole units (each rounded up).
"""

from __future__ import annotations

from typing import Any

from kubelite.api.quota.pod_resources import pod_limits, pod_requests
from kubelite.api.quota.resources import ResourceList, parse_list
from kubelite.machinery.quantity import MAX_INT64, Quantity

Obj = dict[str, Any]
ANNOTATION = "kubernetes.io/limit-ranger"
MAX_MILLI_VALUE = MAX_INT64 // 1000
_ZERO = Quantity(0)


def _items(limit_range: Obj, kind: str) -> list[Obj]:
    return [item for item in (limit_range.get("spec") or {}).get("limits") or ()
            if isinstance(item, dict) and item.get("type") == kind]


def default_requirements(limit_range: Obj) -> tuple[dict[str, str], dict[str, str]]:
    """(requests, limits) a container gets when it states none: the Container items'
    defaultRequest and default, a later item's value winning."""
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    for item in _items(limit_range, "Container"):
        requests.update({k: str(v) for k, v in parse_list(item.get("defaultRequest")).items()})
        limits.update({k: str(v) for k, v in parse_list(item.get("default")).items()})
    return requests, limits


def apply_defaults(limit_range: Obj, pod: Obj) -> None:
    """Fill in what containers leave unstated (mergePodResourceRequirements)."""
    requests, limits = default_requirements(limit_range)
    notes: list[str] = []
    spec = pod.setdefault("spec", {})
    for key, label in (("containers", "container"), ("initContainers", "init container")):
        for container in spec.get(key) or ():
            if not isinstance(container, dict):
                continue
            resources = container.setdefault("resources", {})
            own_limits = resources.setdefault("limits", {})
            own_requests = resources.setdefault("requests", {})
            set_requests = [k for k in requests if k not in own_requests]
            set_limits = [k for k in limits if k not in own_limits]
            for k in set_limits:
                own_limits[k] = limits[k]
            for k in set_requests:
                own_requests[k] = requests[k]
            name = container.get("name") or ""
            if set_requests:
                notes.append(f"{', '.join(sorted(set_requests))} request for {label} {name}")
            if set_limits:
                notes.append(f"{', '.join(sorted(set_limits))} limit for {label} {name}")
            # Empty maps are not written back: the object stays as the client sent it.
            for field in ("limits", "requests"):
                if not resources[field]:
                    del resources[field]
    if notes:
        meta = pod.setdefault("metadata", {})
        annotations = meta.get("annotations") or {}
        annotations[ANNOTATION] = "LimitRanger plugin set: " + "; ".join(notes)
        meta["annotations"] = annotations


def _values(request: Quantity | None, limit: Quantity | None,
            enforced: Quantity) -> tuple[int, int, int]:
    """requestLimitEnforcedValues: a common precision for comparing."""
    quantities = (request or _ZERO, limit or _ZERO, enforced)
    if all(q.value() <= MAX_MILLI_VALUE for q in quantities):
        r, lim, e = (q.milli_value() for q in quantities)
    else:
        r, lim, e = (q.value() for q in quantities)
    return r, lim, e


def _min(kind: str, name: str, enforced: Quantity, requests: ResourceList,
         limits: ResourceList) -> str:
    request, limit = requests.get(name), limits.get(name)
    r, lim, e = _values(request, limit, enforced)
    if request is None:
        return f"minimum {name} usage per {kind} is {enforced}.  No request is specified"
    if r < e:
        return f"minimum {name} usage per {kind} is {enforced}, but request is {request}"
    if limit is not None and lim < e:
        return f"minimum {name} usage per {kind} is {enforced}, but limit is {limit}"
    return ""


def _max(kind: str, name: str, enforced: Quantity, requests: ResourceList,
         limits: ResourceList) -> str:
    request, limit = requests.get(name), limits.get(name)
    r, lim, e = _values(request, limit, enforced)
    if limit is None:
        return f"maximum {name} usage per {kind} is {enforced}.  No limit is specified"
    if lim > e:
        return f"maximum {name} usage per {kind} is {enforced}, but limit is {limit}"
    if request is not None and r > e:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {request}"
    return ""


def _max_request(kind: str, name: str, enforced: Quantity, requests: ResourceList) -> str:
    request = requests.get(name)
    r, _, e = _values(request, None, enforced)
    if request is None:
        return f"maximum {name} usage per {kind} is {enforced}.  No request is specified"
    if r > e:
        return f"maximum {name} usage per {kind} is {enforced}, but request is {request}"
    return ""


def _ratio(kind: str, name: str, enforced: Quantity, requests: ResourceList,
           limits: ResourceList) -> str:
    request, limit = requests.get(name), limits.get(name)
    r, lim, _ = _values(request, limit, enforced)
    if request is None or r == 0:
        return (f"{name} max limit to request ratio per {kind} is {enforced}, but no request "
                "is specified or request is 0")
    if limit is None or lim == 0:
        return (f"{name} max limit to request ratio per {kind} is {enforced}, but no limit "
                "is specified or limit is 0")
    observed = lim / r
    shown = observed
    most = float(enforced.value())
    if enforced.value() <= MAX_MILLI_VALUE:
        observed *= 1000
        most = float(enforced.milli_value())
    if observed > most:
        return (f"{name} max limit to request ratio per {kind} is {enforced}, but provided "
                f"ratio is {shown:f}")
    return ""


def _check(kind: str, item: Obj, requests: ResourceList, limits: ResourceList) -> list[str]:
    found = []
    for field, rule in (("min", _min), ("max", _max), ("maxLimitRequestRatio", _ratio)):
        bounds = parse_list(item.get(field))
        for name in sorted(bounds):
            found.append(rule(kind, name, bounds[name], requests, limits))
    return [message for message in found if message]


def validate_pod(limit_range: Obj, pod: Obj) -> list[str]:
    spec = pod.get("spec") or {}
    found: list[str] = []
    for item in (limit_range.get("spec") or {}).get("limits") or ():
        if not isinstance(item, dict):
            continue
        if item.get("type") == "Container":
            for key in ("containers", "initContainers"):
                for container in spec.get(key) or ():
                    resources = (container or {}).get("resources") or {}
                    found += _check("Container", item, parse_list(resources.get("requests")),
                                    parse_list(resources.get("limits")))
        elif item.get("type") == "Pod":
            found += _check("Pod", item, pod_requests(pod), pod_limits(pod))
    return found


def validate_claim(limit_range: Obj, claim: Obj) -> list[str]:
    """PersistentVolumeClaim items bound storage requests only (limits are not the
    claimant's to state)."""
    requests = parse_list(((claim.get("spec") or {}).get("resources") or {}).get("requests"))
    found: list[str] = []
    for item in _items(limit_range, "PersistentVolumeClaim"):
        lower, upper = parse_list(item.get("min")), parse_list(item.get("max"))
        found += [_min("PersistentVolumeClaim", n, lower[n], requests, {}) for n in sorted(lower)]
        found += [_max_request("PersistentVolumeClaim", n, upper[n], requests)
                  for n in sorted(upper)]
    return [message for message in found if message]


def aggregate(messages: list[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message as is, several (each once)
    as `[a, b]`."""
    unique = list(dict.fromkeys(messages))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
