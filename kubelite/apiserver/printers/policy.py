"""Scaling, disruption and priority: upstream's printHorizontalPodAutoscaler,
printPodDisruptionBudget, printPriorityClass, printRuntimeClass, printFlowSchema and
printPriorityLevelConfiguration.

HorizontalPodAutoscalers print from the autoscaling/v2 shape (spec.metrics,
status.currentMetrics); a v1-shaped object (targetCPUUtilizationPercentage) is read
the way upstream's v1 conversion turns it into one CPU utilization metric.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.printers.cells import NONE, UNSET, get, int_of, int_or_string, meta
from kubelite.apiserver.printers.printer import AGE, NAME, Obj, Printer, column, name_cells_age

_UNKNOWN = "<unknown>"


def _q(value: Any) -> str:
    """resource.Quantity pointer's String(): "<nil>" when unset."""
    return "<nil>" if value is None else str(value)


def _percent(value: Any) -> str:
    return f"{int_of(value)}%"


def _metric(spec: Obj, status: Obj | None) -> str:
    type_ = spec.get("type")
    if type_ in ("External", "Object"):
        # the two sources print alike: an average target says "(avg)", a value target not
        field = "external" if type_ == "External" else "object"
        target = get(spec, field, "target") or {}
        current_status = get(status, field)
        if target.get("averageValue") is not None:
            current = _UNKNOWN
            if current_status is not None and get(current_status, "current", "averageValue") is not None:
                current = _q(get(current_status, "current", "averageValue"))
            return f"{current}/{_q(target['averageValue'])} (avg)"
        current = _q(get(current_status, "current", "value")) if current_status is not None else _UNKNOWN
        return f"{current}/{_q(target.get('value'))}"
    if type_ == "Pods":
        current_status = get(status, "pods")
        current = _q(get(current_status, "current", "averageValue")) if current_status is not None else _UNKNOWN
        return f"{current}/{_q(get(spec, 'pods', 'target', 'averageValue'))}"
    if type_ in ("Resource", "ContainerResource"):
        field = "resource" if type_ == "Resource" else "containerResource"
        source = spec.get(field) or {}
        target = source.get("target") or {}
        current_status = get(status, field)
        resource = source.get("name") or ""
        if target.get("averageValue") is not None:
            current = _q(get(current_status, "current", "averageValue")) if current_status is not None else _UNKNOWN
            return f"{resource}: {current}/{_q(target['averageValue'])}"
        current = _UNKNOWN
        if current_status is not None and get(current_status, "current", "averageUtilization") is not None:
            current = _percent(get(current_status, "current", "averageUtilization"))
        wanted = "<auto>" if target.get("averageUtilization") is None else _percent(target["averageUtilization"])
        return f"{resource}: {current}/{wanted}"
    return "<unknown type>"


def _v2_metrics(obj: Obj) -> tuple[list[Obj], list[Obj]]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    if "metrics" in spec or "targetCPUUtilizationPercentage" not in spec:
        return spec.get("metrics") or [], status.get("currentMetrics") or []
    specs = [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": spec["targetCPUUtilizationPercentage"]},
            },
        }
    ]
    statuses = []
    if status.get("currentCPUUtilizationPercentage") is not None:
        statuses.append(
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "current": {"averageUtilization": status["currentCPUUtilizationPercentage"]},
                },
            }
        )
    return specs, statuses


def format_hpa_metrics(specs: list[Obj], statuses: list[Obj]) -> str:
    """formatHPAMetrics: the first two metrics as "current/target", then "+ N more..."."""
    if not specs:
        return NONE
    limit = 2
    shown = [_metric(spec, statuses[i] if i < len(statuses) else None) for i, spec in enumerate(specs)]
    if len(shown) > limit:
        return ", ".join(shown[:limit]) + f" + {len(shown) - limit} more..."
    return ", ".join(shown)


def hpa_cells(obj: Obj, now: int) -> list[Any]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    ref = spec.get("scaleTargetRef") or {}
    min_replicas = spec.get("minReplicas")
    return [
        f"{ref.get('kind') or ''}/{ref.get('name') or ''}",
        format_hpa_metrics(*_v2_metrics(obj)),
        UNSET if min_replicas is None else str(int_of(min_replicas)),
        int_of(spec.get("maxReplicas")),
        int_of(status.get("currentReplicas")),
    ]


def _hpa_row(obj: Obj, now: int) -> list[Any]:
    row = name_cells_age()(obj, now)
    return [row[0], *hpa_cells(obj, now), row[1]]


HORIZONTAL_POD_AUTOSCALER = Printer(
    columns=(
        NAME,
        column("Reference", description="The target resource to scale."),
        column("Targets", description="The metrics used to compute the desired replica count."),
        column("MinPods", description="The lower limit for the number of replicas."),
        column("MaxPods", description="The upper limit for the number of replicas."),
        column("Replicas", description="Current number of replicas of pods managed by this autoscaler."),
        AGE,
    ),
    cells=_hpa_row,
)


def _budget(value: Any) -> str:
    return "N/A" if value is None else int_or_string(value)


POD_DISRUPTION_BUDGET = Printer(
    columns=(
        NAME,
        column("Min Available", description="The minimum number of pods that must be available."),
        column("Max Unavailable", description="The maximum number of pods that may be unavailable."),
        column("Allowed Disruptions", "integer", "Calculated number of pods that may be disrupted at this time."),
        AGE,
    ),
    cells=name_cells_age(
        lambda obj: _budget(get(obj, "spec", "minAvailable")),
        lambda obj: _budget(get(obj, "spec", "maxUnavailable")),
        lambda obj: int_of(get(obj, "status", "disruptionsAllowed")),
    ),
)


def priority_class_cells(obj: Obj, now: int) -> list[Any]:
    row = name_cells_age(lambda o: int_of(o.get("value")), lambda o: bool(o.get("globalDefault")))(obj, now)
    row.append(obj.get("preemptionPolicy") or "")
    return row


PRIORITY_CLASS = Printer(
    columns=(
        NAME,
        column("Value", "integer", "The priority of pods that use this class."),
        column("Global-Default", "boolean", "Whether this class is the default for pods without a class."),
        AGE,
        column("PreemptionPolicy", description="Whether pods of this class may preempt lower-priority pods."),
    ),
    cells=priority_class_cells,
)

RUNTIME_CLASS = Printer(
    columns=(NAME, column("Handler", description="The CRI handler this class runs pods with."), AGE),
    cells=name_cells_age(lambda obj: obj.get("handler") or ""),
)


def _dangling(obj: Obj) -> str:
    for condition in get(obj, "status", "conditions") or ():
        if condition.get("type") == "Dangling":
            return condition.get("status") or ""
    return "?"


def flow_schema_cells(obj: Obj, now: int) -> list[Any]:
    method = get(obj, "spec", "distinguisherMethod")
    row = name_cells_age(
        lambda o: get(o, "spec", "priorityLevelConfiguration", "name") or "",
        lambda o: int_of(get(o, "spec", "matchingPrecedence")),
        lambda o: NONE if method is None else (method.get("type") or ""),
    )(obj, now)
    row.append(_dangling(obj))
    return row


def order_flow_schemas(objs: list[Obj]) -> list[Obj]:
    """FlowSchemaSequence: by matching precedence, then name."""
    return sorted(objs, key=lambda o: (int_of(get(o, "spec", "matchingPrecedence")), meta(o).get("name") or ""))


FLOW_SCHEMA = Printer(
    columns=(
        NAME,
        column("PriorityLevel", description="The priority level requests matching this schema go to."),
        column("MatchingPrecedence", description="Lower values match first."),
        column("DistinguisherMethod", description="How flows are told apart."),
        AGE,
        column("MissingPL", description="references a broken or non-existent PriorityLevelConfiguration"),
    ),
    cells=flow_schema_cells,
    order=order_flow_schemas,
)


def priority_level_cells(obj: Obj, now: int) -> list[Any]:
    spec = obj.get("spec") or {}
    limited = spec.get("limited")
    shares: Any = NONE
    queues: Any = NONE
    hand_size: Any = NONE
    queue_length: Any = NONE
    if limited is not None:
        shares = int_of(limited.get("nominalConcurrencyShares"))
        queuing = get(limited, "limitResponse", "queuing")
        if queuing is not None:
            queues = int_of(queuing.get("queues"))
            hand_size = int_of(queuing.get("handSize"))
            queue_length = int_of(queuing.get("queueLengthLimit"))
    row = name_cells_age(lambda o: spec.get("type") or "")(obj, now)
    return [row[0], row[1], shares, queues, hand_size, queue_length, row[2]]


PRIORITY_LEVEL_CONFIGURATION = Printer(
    columns=(
        NAME,
        column("Type", description="Whether requests at this level are limited (Limited or Exempt)."),
        column("NominalConcurrencyShares", description="This level's share of the server's concurrency."),
        column("Queues", description="The number of queues."),
        column("HandSize", description="The number of queues a flow is shuffle-sharded to."),
        column("QueueLengthLimit", description="The most requests a queue may hold."),
        AGE,
    ),
    cells=priority_level_cells,
)

# printScale: what `kubectl get <workload> --subresource=scale` shows.
SCALE = Printer(
    columns=(
        NAME,
        column("Desired", "integer", "Number of desired replicas."),
        column("Available", "integer", "Number of actual replicas."),
        AGE,
    ),
    cells=name_cells_age(lambda o: int_of(get(o, "spec", "replicas")),
                         lambda o: int_of(get(o, "status", "replicas"))),
)

PRINTERS = {
    ("autoscaling", "HorizontalPodAutoscaler"): HORIZONTAL_POD_AUTOSCALER,
    ("autoscaling", "Scale"): SCALE,
    ("policy", "PodDisruptionBudget"): POD_DISRUPTION_BUDGET,
    ("scheduling.k8s.io", "PriorityClass"): PRIORITY_CLASS,
    ("node.k8s.io", "RuntimeClass"): RUNTIME_CLASS,
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): FLOW_SCHEMA,
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): PRIORITY_LEVEL_CONFIGURATION,
}
