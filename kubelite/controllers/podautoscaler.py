"""The HorizontalPodAutoscaler loop (upstream's pkg/controller/podautoscaler/horizontal.go).

    horizontalpodautoscalers, pods informers; every HPA synced every sync period (15 s)
    sync(ns/name):
        scaleTargetRef ─► /scale of the target (podautoscaler_metrics.ScaleTargets)
                          failure: AbleToScale False FailedGetScale
        current replicas 0 (min > 0): ScalingActive False ScalingDisabled, nothing done
        above max / below min: straight to max / min
        otherwise per metric: PodMetrics (metrics.k8s.io) + pods from the informer
            ─► podautoscaler_replicas.resource_replicas; the largest proposal wins;
            every metric failing (or some failing while the rest would scale down)
            leaves the count alone: ScalingActive False with the first failure's reason
            ─► podautoscaler_behavior.Recommendations.normalize (stabilization, rates,
               min/max): AbleToScale and ScalingLimited reasons
        a new count is written to /scale (SuccessfulRescale, or FailedRescale and
        AbleToScale False FailedUpdateScale); status (currentReplicas, desiredReplicas,
        currentMetrics, lastScaleTime, conditions) written when it changed.

Recommendations and scale events live in memory for the loop's term, as upstream's
do. Resource metrics (Utilization, AverageValue) and ContainerResource are served;
Pods, Object and External metrics need a custom or external metrics API kubelite does
not serve, and say so in the ScalingActive condition.
"""

from __future__ import annotations

import copy
import datetime
import logging
from collections.abc import Callable
from typing import Any

from kubelite.client.controller import Controller
from kubelite.client.store import object_key, split_key
from kubelite.controllers.context import LoopContext
from kubelite.controllers.podautoscaler_behavior import (
    Decision, Recommendations, default_behavior)
from kubelite.controllers.podautoscaler_metrics import (
    MetricsUnavailable, ScaleTargets, resource_metrics)
from kubelite.controllers.podautoscaler_replicas import TOLERANCE, NoProposal, resource_replicas
from kubelite.controllers.status_writes import replaced, write_status
from kubelite.machinery import errors, labels
from kubelite.machinery.conditions import set_condition
from kubelite.machinery.quantity import Format, Quantity, parse_quantity
from kubelite.machinery.timestamps import format_time

log = logging.getLogger(__name__)

Obj = dict[str, Any]
HPA = "horizontalpodautoscalers.autoscaling"
COMPONENT = "horizontal-pod-autoscaler"
WORKERS = 5  # --concurrent-horizontal-pod-autoscaler-syncs


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class MetricFailure(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class HorizontalLoop:
    name = "horizontalpodautoscaling"

    def __init__(self, ctx: LoopContext, *, sync_period: float | None = None,
                 downscale_window: float | None = None, tolerance: float = TOLERANCE,
                 clock: Callable[[], datetime.datetime] = _now) -> None:
        self.client = ctx.client
        self.clock = clock
        self.tolerance = tolerance
        self.recorder = ctx.recorder(COMPONENT)
        self.downscale_window = (downscale_window if downscale_window is not None
                                 else ctx.settings.hpa_downscale_stabilization)
        self.recommendations = Recommendations(self.downscale_window)
        self.targets = ScaleTargets(ctx.client)
        self.hpas = ctx.informers.informer(HPA)
        self.pods = ctx.informers.informer("pods")
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        period = sync_period if sync_period is not None else ctx.settings.hpa_sync_period
        self.controller.enqueue_every(period, self.hpas.indexer.keys)
        self.hpas.add_event_handler(
            on_add=lambda hpa: self.controller.enqueue(object_key(hpa)),
            on_update=self._updated, on_delete=self._deleted)

    async def run(self) -> None:
        await self.controller.run()

    def _updated(self, old: Obj, new: Obj) -> None:
        # our own status writes come back as updates: only a spec change is news
        if old.get("spec") != new.get("spec"):
            self.controller.enqueue(object_key(new))

    def _deleted(self, hpa: Obj) -> None:
        self.recommendations.forget(object_key(hpa))

    # --- one sync -------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.hpas.lister.get(namespace, name)
        if cached is None:
            self.recommendations.forget(key)
            return
        hpa = copy.deepcopy(cached)
        original = copy.deepcopy(hpa.get("status") or {})
        status = hpa.setdefault("status", {})
        status.setdefault("conditions", [])
        spec = hpa.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        reference = f"{ref.get('kind')}/{namespace}/{ref.get('name')}"
        try:
            resource = await self.targets.resource(str(ref.get("apiVersion") or ""),
                                                   str(ref.get("kind") or ""))
            scale = await self.client.get_scale(resource, str(ref.get("name")),
                                                namespace=namespace)
        except (LookupError, errors.StatusError) as err:
            self.recorder.event(hpa, "Warning", "FailedGetScale", str(err))
            self._condition(hpa, "AbleToScale", "False", "FailedGetScale",
                            f"the HPA controller was unable to get the target's current "
                            f"scale: {err}")
            await self._write(hpa, original)
            return
        self._condition(hpa, "AbleToScale", "True", "SucceededGetScale",
                        "the HPA controller was able to get the target's current scale")
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        now = self.clock()
        self.recommendations.initial(key, current, now.timestamp())
        minimum = int(spec.get("minReplicas") or 1)
        maximum = int(spec.get("maxReplicas") or 0)
        metric_statuses: list[Obj] = []
        rescale, reason = True, ""
        if current == 0 and minimum != 0:
            desired, rescale = 0, False
            self._condition(hpa, "ScalingActive", "False", "ScalingDisabled",
                            "scaling is disabled since the replica count of the target is zero")
        elif current > maximum:
            desired, reason = maximum, "Current number of replicas above Spec.MaxReplicas"
        elif current < minimum:
            desired, reason = minimum, "Current number of replicas below Spec.MinReplicas"
        else:
            proposal, metric, metric_statuses, failure = await self._replicas_for_metrics(
                hpa, scale, namespace, now)
            if proposal < 0:
                self._set_status(hpa, current, status.get("desiredReplicas", 0),
                                 metric_statuses, False)
                await self._write(hpa, original)
                self.recorder.event(hpa, "Warning", "FailedComputeMetricsReplicas",
                                    str(failure))
                log.info("failed to compute desired number of replicas based on listed "
                         "metrics for %s: %s", reference, failure)
                return
            desired = proposal
            if desired > current:
                reason = f"{metric} above target"
            elif desired < current:
                reason = "All metrics below target"
            behavior = default_behavior(spec.get("behavior"), self.downscale_window)
            decision = self.recommendations.normalize(key, behavior, current, desired,
                                                      minimum, maximum, now.timestamp())
            self._apply_decision(hpa, decision)
            desired = decision.replicas
            rescale = desired != current
        if rescale:
            try:
                await self.client.update_scale(resource, str(ref.get("name")), desired,
                                               namespace=namespace)
            except errors.StatusError as err:
                self.recorder.event(hpa, "Warning", "FailedRescale",
                                    f"New size: {desired}; reason: {reason}; error: {err}")
                self._condition(hpa, "AbleToScale", "False", "FailedUpdateScale",
                                f"the HPA controller was unable to update the target scale: "
                                f"{err}")
                self._set_status(hpa, current, status.get("desiredReplicas", 0),
                                 metric_statuses, False)
                await self._write(hpa, original)
                raise
            self._condition(hpa, "AbleToScale", "True", "SucceededRescale",
                            f"the HPA controller was able to update the target scale to "
                            f"{desired}")
            self.recorder.event(hpa, "Normal", "SuccessfulRescale",
                                f"New size: {desired}; reason: {reason}")
            self.recommendations.record_scale(
                key, default_behavior(spec.get("behavior"), self.downscale_window),
                current, desired, now.timestamp())
            log.info("successful rescale of %s, old size: %d, new size: %d, reason: %s",
                     key, current, desired, reason)
        else:
            desired = current
        self._set_status(hpa, current, desired, metric_statuses, rescale)
        await self._write(hpa, original)

    # --- metrics ------------------------------------------------------------------------

    async def _replicas_for_metrics(self, hpa: Obj, scale: Obj, namespace: str,
                                    now: datetime.datetime
                                    ) -> tuple[int, str, list[Obj], str]:
        """(proposal or -1, the metric that decided, statuses, first failure)."""
        text = str((scale.get("status") or {}).get("selector") or "")
        if not text:
            self.recorder.event(hpa, "Warning", "SelectorRequired", "selector is required")
            self._condition(hpa, "ScalingActive", "False", "InvalidSelector",
                            "the HPA target's scale is missing a selector")
            return -1, "", [], "selector is required"
        try:
            selector = labels.parse(text)
        except errors.StatusError as err:
            self.recorder.event(hpa, "Warning", "InvalidSelector", str(err))
            self._condition(hpa, "ScalingActive", "False", "InvalidSelector",
                            f"the HPA target's scale has an invalid selector: {err}")
            return -1, "", [], str(err)
        pods = [p for p in self.pods.lister.list(namespace)
                if selector.matches((p.get("metadata") or {}).get("labels") or {})]
        current = int((scale.get("spec") or {}).get("replicas") or 0)
        specs = (hpa.get("spec") or {}).get("metrics") or []
        replicas, metric, statuses = 0, "", []
        failures: list[MetricFailure] = []
        for metric_spec in specs:
            try:
                proposal, name, status = await self._replicas_for_metric(
                    metric_spec, current, namespace, text, pods, now)
            except MetricFailure as failure:
                self.recorder.event(hpa, "Warning", failure.reason, str(failure))
                failures.append(failure)
                continue
            statuses.append(status)
            if replicas == 0 or proposal > replicas:
                replicas, metric = proposal, name
        if failures and (len(failures) >= len(specs) or replicas < current):
            first = failures[0]
            self._condition(hpa, "ScalingActive", "False", first.reason,
                            f"the HPA was unable to compute the replica count: {first}")
            return -1, "", statuses, (f"invalid metrics ({len(failures)} invalid out of "
                                      f"{len(specs)}), first error is: {first}")
        self._condition(hpa, "ScalingActive", "True", "ValidMetricFound",
                        f"the HPA was able to successfully calculate a replica count from "
                        f"{metric}")
        return replicas, metric, statuses, ""

    async def _replicas_for_metric(self, spec: Obj, current: int, namespace: str,
                                   selector: str, pods: list[Obj], now: datetime.datetime
                                   ) -> tuple[int, str, Obj]:
        kind = str(spec.get("type") or "")
        if kind not in ("Resource", "ContainerResource"):
            raise MetricFailure(f"FailedGet{kind}Metric",
                                f"{kind} metrics need a custom or external metrics API, "
                                f"which this cluster does not serve")
        source = spec.get("resource" if kind == "Resource" else "containerResource") or {}
        resource = str(source.get("name") or "")
        container = str(source.get("container") or "") if kind == "ContainerResource" else ""
        target = source.get("target") or {}
        reason = f"FailedGet{kind}Metric"
        try:
            metrics = await resource_metrics(self.client, namespace, selector, resource,
                                             container)
            if target.get("averageValue") is not None:
                average = parse_quantity(str(target["averageValue"])).milli_value()
                proposal = resource_replicas(current, pods, metrics, resource, now,
                                             average_value=average, tolerance=self.tolerance)
                name = f"{resource} resource"
                current_status: Obj = {"averageValue": _milli(proposal.raw)}
            elif target.get("averageUtilization") is not None:
                proposal = resource_replicas(
                    current, pods, metrics, resource, now, container=container,
                    utilization=int(target["averageUtilization"]), tolerance=self.tolerance)
                name = (f"{resource} resource utilization (percentage of request)"
                        if not container else
                        f"{resource} container resource utilization (percentage of request)")
                current_status = {"averageUtilization": proposal.utilization,
                                  "averageValue": _milli(proposal.raw)}
            else:
                raise NoProposal("invalid resource metric source: neither an average "
                                 "utilization target nor an average value (usage) target "
                                 "was set")
        except (MetricsUnavailable, NoProposal) as err:
            what = "usage" if target.get("averageValue") is not None else "utilization"
            raise MetricFailure(reason, f"failed to get {resource} {what}: {err}") from None
        body: Obj = {"name": resource, "current": current_status}
        if container:
            body["container"] = container
        field = "resource" if kind == "Resource" else "containerResource"
        return proposal.replicas, name, {"type": kind, field: body}

    # --- status ---------------------------------------------------------------------

    def _condition(self, hpa: Obj, type_: str, status: str, reason: str, message: str) -> None:
        conditions = hpa["status"].get("conditions") or []
        hpa["status"]["conditions"] = set_condition(conditions, {
            "type": type_, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": format_time(self.clock())})

    def _apply_decision(self, hpa: Obj, decision: Decision) -> None:
        self._condition(hpa, "AbleToScale", "True", decision.able_reason,
                        decision.able_message)
        self._condition(hpa, "ScalingLimited", "True" if decision.limited else "False",
                        decision.limited_reason, decision.limited_message)

    def _set_status(self, hpa: Obj, current: int, desired: int, metrics: list[Obj],
                    rescaled: bool) -> None:
        status = hpa["status"]
        status["currentReplicas"] = current
        status["desiredReplicas"] = desired
        if metrics:
            status["currentMetrics"] = metrics
        else:
            status.pop("currentMetrics", None)
        if rescaled:
            status["lastScaleTime"] = format_time(self.clock())

    async def _write(self, hpa: Obj, original: Obj) -> None:
        if hpa["status"] == original:
            return
        try:
            await write_status(self.client, HPA, hpa, hpa["status"], replaced)
        except errors.NotFound:
            pass  # deleted meanwhile


def _milli(value: int) -> str:
    return Quantity(value, -3, Format.DECIMAL_SI).canonical()
