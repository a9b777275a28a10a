"""Deployments, ReplicaSets, StatefulSets, DaemonSets, ReplicationControllers.

Defaults are pkg/apis/apps/v1/defaults.go (and SetDefaults_ReplicationController) plus
the PodSpec defaults on the template. Create resets status to what the zero status
serializes to upstream (`{}` for Deployments, `{replicas: 0}` for ReplicaSets...) and
sets generation 1; updates keep status and bump generation on a spec change (and, for
Deployments, on an annotation change, since annotations are copied to ReplicaSets).
A DaemonSet's template generation lives in the annotation
`deprecated.daemonset.template.generation`, as upstream's v1 conversion stores it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubelite.apiserver.registry.strategy import DefaultStrategy, spec_of
from kubelite.machinery.errors import Cause

from .causes import forbidden, immutable, invalid, nonnegative, not_supported, required
from .names import dns_label
from .podspec import default_pod_spec
from .podvalidation import validate_pod_spec
from .selectors import is_empty, selector_matches

Obj = dict[str, Any]
DS_TEMPLATE_GENERATION = "deprecated.daemonset.template.generation"


def default_template(spec: Obj) -> None:
    template = spec.get("template")
    if isinstance(template, dict):
        template_spec = template.get("spec")
        if isinstance(template_spec, dict):
            default_pod_spec(template_spec)


class _AppsStrategy(DefaultStrategy):
    has_status = True
    tracks_generation = True
    initial_status: ClassVar[Obj | None] = {}
    word: ClassVar[str] = ""  # "deployment" in "empty selector is invalid for deployment"

    def validate(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = nonnegative("spec.replicas", spec.get("replicas", 0))
        causes += nonnegative("spec.minReadySeconds", spec.get("minReadySeconds", 0))
        causes += validate_selector_and_template(spec, self.word)
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        # apps/v1 never lets the selector change (extensions/v1beta1 did).
        selector = (new.get("spec") or {}).get("selector")
        if selector != (old.get("spec") or {}).get("selector"):
            return [immutable("spec.selector", selector)]
        return []


def _always_restarting_pod_spec(template_spec: Obj) -> list[Cause]:
    """A controller's pod template: a valid pod spec whose restartPolicy is Always."""
    causes = validate_pod_spec(template_spec, "spec.template.spec")
    policy = template_spec.get("restartPolicy")
    if policy and policy != "Always":
        causes.append(not_supported("spec.template.spec.restartPolicy", policy, ["Always"]))
    return causes


def validate_selector_and_template(spec: Obj, word: str, *, active_deadline: bool = True) -> list[Cause]:
    causes: list[Cause] = []
    selector = spec.get("selector")
    if selector is None:
        causes.append(required("spec.selector"))
    elif is_empty(selector):
        causes.append(invalid("spec.selector", selector, f"empty selector is invalid for {word}"))
    template = spec.get("template")
    if not isinstance(template, dict):
        causes.append(required("spec.template"))
        return causes
    labels = (template.get("metadata") or {}).get("labels") or {}
    if selector and not is_empty(selector) and not selector_matches(selector, labels):
        causes.append(invalid("spec.template.metadata.labels", labels,
                              "`selector` does not match template `labels`"))
    template_spec = template.get("spec") or {}
    causes += _always_restarting_pod_spec(template_spec)
    if active_deadline and template_spec.get("activeDeadlineSeconds") is not None:
        name = {"deployment": "ReplicaSet", "replicaset": "ReplicaSet",
                "daemonset": "DaemonSet", "statefulset": "StatefulSet"}.get(word, word)
        causes.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                                f"activeDeadlineSeconds in {name} is not Supported"))
    return causes


def _validate_int_or_percent(value: Any, field: str) -> list[Cause]:
    if isinstance(value, str):
        if not (value.endswith("%") and value[:-1].isdigit()):
            return [invalid(field, value, "a valid percent string must be a numeric string "
                            "followed by an ending '%' (e.g. '1%',  or '93%', regex used for "
                            "validation is '[0-9]+%')")]
        if int(value[:-1]) > 100 and field.endswith("maxUnavailable"):
            return [invalid(field, value, "must not be greater than 100%")]
        return []
    return nonnegative(field, value)


def _int_or_percent_value(value: Any) -> int:
    if isinstance(value, str):
        return int(value[:-1]) if value.endswith("%") and value[:-1].isdigit() else 0
    return value if isinstance(value, int) else 0


class DeploymentStrategy(_AppsStrategy):
    word = "deployment"
    status_writes_annotations = True

    def default(self, obj: Obj) -> None:
        spec = spec_of(obj)
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        strategy = spec.setdefault("strategy", {})
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.get("rollingUpdate")
            if not isinstance(rolling, dict):
                rolling = strategy["rollingUpdate"] = {}
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = 10
        if spec.get("progressDeadlineSeconds") is None:
            spec["progressDeadlineSeconds"] = 600
        default_template(spec)

    def validate(self, obj: Obj) -> list[Cause]:
        causes = super().validate(obj)
        spec = obj.get("spec") or {}
        strategy = spec.get("strategy") or {}
        kind = strategy.get("type")
        if kind == "Recreate":
            if strategy.get("rollingUpdate") is not None:
                causes.append(forbidden("spec.strategy.rollingUpdate",
                                        "may not be specified when strategy `type` is 'Recreate'"))
        elif kind == "RollingUpdate":
            rolling = strategy.get("rollingUpdate") or {}
            base = "spec.strategy.rollingUpdate"
            causes += _validate_int_or_percent(rolling.get("maxUnavailable"), base + ".maxUnavailable")
            causes += _validate_int_or_percent(rolling.get("maxSurge"), base + ".maxSurge")
            if (_int_or_percent_value(rolling.get("maxUnavailable")) == 0
                    and _int_or_percent_value(rolling.get("maxSurge")) == 0):
                causes.append(invalid(base + ".maxUnavailable", rolling.get("maxUnavailable"),
                                      "may not be 0 when `maxSurge` is 0"))
        else:
            causes.append(not_supported("spec.strategy", strategy, ["Recreate", "RollingUpdate"]))
        limit = spec.get("revisionHistoryLimit")
        if limit is not None:
            causes += nonnegative("spec.revisionHistoryLimit", limit)
        deadline = spec.get("progressDeadlineSeconds")
        if deadline is not None:
            causes += nonnegative("spec.progressDeadlineSeconds", deadline)
            if deadline <= spec.get("minReadySeconds", 0):
                causes.append(invalid("spec.progressDeadlineSeconds", deadline,
                                      "must be greater than minReadySeconds"))
        return causes

    def bumps_generation(self, new: Obj, old: Obj) -> bool:
        def annotations(o: Obj) -> Obj:
            return dict((o.get("metadata") or {}).get("annotations") or {})
        return new.get("spec") != old.get("spec") or annotations(new) != annotations(old)


class ReplicaSetStrategy(_AppsStrategy):
    word = "deployment"  # upstream's ReplicaSet message says "deployment" too
    initial_status = {"replicas": 0}

    def default(self, obj: Obj) -> None:
        spec = spec_of(obj)
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        default_template(spec)

    def selectable_fields(self, obj: Obj) -> dict[str, str]:
        return {"status.replicas": str((obj.get("status") or {}).get("replicas", 0))}


class StatefulSetStrategy(_AppsStrategy):
    word = "statefulset"
    initial_status = {"replicas": 0, "availableReplicas": 0}

    def validate_name(self, name: str, prefix: bool = False) -> list[str]:
        # The name ends up in the pods' hostnames, which are DNS labels.
        return dns_label(name, prefix)

    def default(self, obj: Obj) -> None:
        spec = spec_of(obj)
        if not spec.get("podManagementPolicy"):
            spec["podManagementPolicy"] = "OrderedReady"
        update = spec.setdefault("updateStrategy", {})
        if not update.get("type"):
            update["type"] = "RollingUpdate"
            update.setdefault("rollingUpdate", {})
        rolling = update.get("rollingUpdate")
        if update["type"] == "RollingUpdate" and isinstance(rolling, dict):
            rolling.setdefault("partition", 0)
        retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
        retention.setdefault("whenDeleted", "Retain")
        retention.setdefault("whenScaled", "Retain")
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = 10
        default_template(spec)
        for claim in spec.get("volumeClaimTemplates") or ():
            if isinstance(claim, dict):
                claim_spec = claim.setdefault("spec", {})
                claim_spec.setdefault("volumeMode", "Filesystem")
                claim.setdefault("status", {"phase": "Pending"})

    def validate(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        policy = spec.get("podManagementPolicy")
        if policy not in ("OrderedReady", "Parallel"):
            causes.append(invalid("spec.podManagementPolicy", policy,
                                  "must be 'OrderedReady' or 'Parallel'"))
        update = spec.get("updateStrategy") or {}
        if update.get("type") == "OnDelete" and update.get("rollingUpdate") is not None:
            causes.append(invalid("spec.updateStrategy.rollingUpdate", update["rollingUpdate"],
                                  "only allowed for updateStrategy 'RollingUpdate'"))
        elif update.get("type") == "RollingUpdate":
            partition = (update.get("rollingUpdate") or {}).get("partition", 0)
            causes += nonnegative("spec.updateStrategy.rollingUpdate.partition", partition)
        elif update.get("type") != "OnDelete":
            causes.append(invalid("spec.updateStrategy", update, "must be 'RollingUpdate' or 'OnDelete'"))
        retention = spec.get("persistentVolumeClaimRetentionPolicy") or {}
        for key in ("whenDeleted", "whenScaled"):
            if retention.get(key) not in ("Retain", "Delete"):
                causes.append(not_supported(f"spec.persistentVolumeClaimRetentionPolicy.{key}",
                                            retention.get(key), ["Retain", "Delete"]))
        return causes + super().validate(obj)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        mutable = ("replicas", "ordinals", "template", "updateStrategy",
                   "persistentVolumeClaimRetentionPolicy", "minReadySeconds")
        def strip(o: Obj) -> Obj:
            return {k: v for k, v in (o.get("spec") or {}).items() if k not in mutable}
        if strip(new) != strip(old):
            return [forbidden("spec", "updates to statefulset spec for fields other than 'replicas', "
                              "'ordinals', 'template', 'updateStrategy', "
                              "'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")]
        return []


class DaemonSetStrategy(_AppsStrategy):
    word = "daemonset"
    initial_status = {"currentNumberScheduled": 0, "numberMisscheduled": 0,
                      "desiredNumberScheduled": 0, "numberReady": 0}

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        obj["metadata"].setdefault("annotations", {})[DS_TEMPLATE_GENERATION] = "1"

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        old_annotations = (old.get("metadata") or {}).get("annotations") or {}
        generation = int(old_annotations.get(DS_TEMPLATE_GENERATION, "0") or 0)
        if (new.get("spec") or {}).get("template") != (old.get("spec") or {}).get("template"):
            generation += 1
        if generation:
            annotations = new.setdefault("metadata", {}).setdefault("annotations", {})
            annotations[DS_TEMPLATE_GENERATION] = str(generation)

    def default(self, obj: Obj) -> None:
        spec = spec_of(obj)
        update = spec.setdefault("updateStrategy", {})
        if not update.get("type"):
            update["type"] = "RollingUpdate"
        if update["type"] == "RollingUpdate":
            rolling = update.get("rollingUpdate")
            if not isinstance(rolling, dict):
                rolling = update["rollingUpdate"] = {}
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)
        if spec.get("revisionHistoryLimit") is None:
            spec["revisionHistoryLimit"] = 10
        default_template(spec)

    def validate(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = validate_selector_and_template(spec, self.word)
        causes += nonnegative("spec.minReadySeconds", spec.get("minReadySeconds", 0))
        update = spec.get("updateStrategy") or {}
        if update.get("type") == "RollingUpdate":
            rolling = update.get("rollingUpdate")
            base = "spec.updateStrategy.rollingUpdate"
            if rolling is None:
                causes.append(required(base))
            else:
                unavailable = _int_or_percent_value(rolling.get("maxUnavailable")) != 0
                surge = _int_or_percent_value(rolling.get("maxSurge")) != 0
                if unavailable and surge:
                    causes.append(invalid(base + ".maxSurge", rolling.get("maxSurge"),
                                          "may not be set when maxUnavailable is non-zero"))
                elif not unavailable and not surge:
                    causes.append(required(base + ".maxUnavailable", "cannot be 0 when maxSurge is 0"))
        elif update.get("type") != "OnDelete":
            causes.append(not_supported("spec.updateStrategy", update, ["RollingUpdate", "OnDelete"]))
        return causes


class ReplicationControllerStrategy(_AppsStrategy):
    initial_status = {"replicas": 0}

    def default(self, obj: Obj) -> None:
        spec = spec_of(obj)
        template = spec.get("template")
        labels = ((template or {}).get("metadata") or {}).get("labels") if isinstance(template, dict) else None
        if labels:
            if not spec.get("selector"):
                spec["selector"] = dict(labels)
            meta = obj.setdefault("metadata", {})
            if not meta.get("labels"):
                meta["labels"] = dict(labels)
        if spec.get("replicas") is None:
            spec["replicas"] = 1
        default_template(spec)

    def validate(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = nonnegative("spec.replicas", spec.get("replicas", 0))
        selector = spec.get("selector") or {}
        if not selector:
            causes.append(required("spec.selector"))
        template = spec.get("template")
        if not isinstance(template, dict):
            causes.append(required("spec.template"))
            return causes
        labels = (template.get("metadata") or {}).get("labels") or {}
        if selector and any(labels.get(k) != v for k, v in selector.items()):
            causes.append(invalid("spec.template.metadata.labels", labels,
                                  "`selector` does not match template `labels`"))
        causes += _always_restarting_pod_spec(template.get("spec") or {})
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return []  # a ReplicationController's selector may change

    def selectable_fields(self, obj: Obj) -> dict[str, str]:
        return {"status.replicas": str((obj.get("status") or {}).get("replicas", 0))}

