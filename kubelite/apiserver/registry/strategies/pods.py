"""Pods (pkg/registry/core/pod/strategy.go, ValidatePodUpdate, qos.GetPodQOS).

Create: defaults (PodSpec defaults plus the Pod-only ones), then what kube-apiserver's
ServiceAccount admission adds to every pod (serviceAccountName "default"; the
DefaultTolerationSeconds and Priority plugins are apiserver/admission's),
generation 1, and a fresh status of
`{phase: Pending, qosClass}`. All of it is idempotent, so a real admission chain may
run the same steps again.

Update: status is kept (it changes only through pods/status), and the spec may change
only where upstream allows: container images, activeDeadlineSeconds (down only),
additions to tolerations, removal of scheduling gates, and terminationGracePeriodSeconds
from a negative value to 1. Anything else is `spec: Forbidden: pod updates may not
change fields other than ...` followed by a diff of the spec.
"""

from __future__ import annotations

import copy
import difflib
import json
from typing import Any

from kubelite.api.qos import qos_class
from kubelite.apiserver.registry.strategy import DefaultStrategy, StatusStrategy, Strategy, spec_of
from kubelite.machinery.errors import Cause
from kubelite.machinery.timestamps import now_rfc3339

from .causes import forbidden, invalid, path
from .podspec import default_pod_only, default_pod_spec
from .podvalidation import validate_pod_spec

Obj = dict[str, Any]

UPDATABLE_POD_SPEC_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)


def default_pod(pod: Obj) -> None:
    spec = spec_of(pod)
    default_pod_only(spec)
    default_pod_spec(spec)


def admit_pod(pod: Obj) -> None:
    """The one thing the ServiceAccount admission plugin adds to every new pod, here too
    for a server that runs without the plugin (idempotent). Mirror pods are left
    alone, as the plugin leaves them: they may name no account."""
    spec = spec_of(pod)
    if "kubernetes.io/config.mirror" in ((pod.get("metadata") or {}).get("annotations") or {}):
        return
    if not spec.get("serviceAccountName"):
        spec["serviceAccountName"] = "default"
        spec["serviceAccount"] = "default"


class PodStrategy(DefaultStrategy):
    has_status = True
    tracks_generation = True
    return_deleted_object = True

    def subresource_strategies(self) -> dict[str, Strategy]:
        return {"status": PodStatusStrategy(self), "binding": BindingStrategy()}

    def grace_period(self, pod: Obj, options: Obj) -> int:
        # CheckGracefulDelete: a pod not yet on a node, or finished, goes at once, since
        # no kubelet has to stop it; otherwise the request's period, else the pod's own.
        spec = pod.get("spec") or {}
        if not spec.get("nodeName"):
            return 0
        if (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
            return 0
        given = options.get("gracePeriodSeconds")
        if given is not None:
            return max(int(given), 0)
        return int(spec.get("terminationGracePeriodSeconds", 30))

    def prepare_for_create(self, pod: Obj) -> None:
        super().prepare_for_create(pod)
        # Defaults first: the QoS class reads requests that default from limits.
        self.default(pod)
        admit_pod(pod)
        pod["status"] = {"phase": "Pending", "qosClass": qos_class(pod)}
        if (pod.get("spec") or {}).get("schedulingGates"):
            # upstream's applySchedulingGatedCondition: `kubectl get` shows SchedulingGated
            pod["status"]["conditions"] = [{
                "type": "PodScheduled", "status": "False", "lastProbeTime": None,
                "lastTransitionTime": now_rfc3339(), "reason": "SchedulingGated",
                "message": "Scheduling is blocked due to non-empty scheduling gates"}]
        merge_label_keys(pod)

    def default(self, pod: Obj) -> None:
        default_pod(pod)

    def validate(self, pod: Obj) -> list[Cause]:
        return validate_pod_spec(pod.get("spec") or {})

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return validate_pod_spec_update(new.get("spec") or {}, old.get("spec") or {})

    def selectable_fields(self, pod: Obj) -> dict[str, str]:
        spec = pod.get("spec") or {}
        status = pod.get("status") or {}
        pod_ips = status.get("podIPs") or []
        pod_ip = pod_ips[0].get("ip", "") if pod_ips else status.get("podIP", "")
        return {
            "spec.nodeName": spec.get("nodeName") or "",
            "spec.restartPolicy": spec.get("restartPolicy") or "",
            "spec.schedulerName": spec.get("schedulerName") or "",
            "spec.serviceAccountName": spec.get("serviceAccountName") or "",
            "spec.hostNetwork": "true" if spec.get("hostNetwork") else "false",
            "status.phase": status.get("phase") or "",
            "status.podIP": pod_ip or "",
            "status.nominatedNodeName": status.get("nominatedNodeName") or "",
        }


class BindingStrategy(DefaultStrategy):
    """pods/binding: the one write allowed to set an existing pod's spec.nodeName
    (pkg/registry/core/pod/storage BindingREST). The binding handler makes exactly that
    change, so none of the pod's update rules, which forbid it, run."""


class PodStatusStrategy(StatusStrategy):
    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        # qosClass is fixed at creation; old kubelets drop it, so carry it over.
        status = new.get("status")
        old_qos = (old.get("status") or {}).get("qosClass")
        if isinstance(status, dict) and not status.get("qosClass") and old_qos:
            status["qosClass"] = old_qos


def validate_pod_spec_update(new: Obj, old: Obj) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("containers", "initContainers"):
        if len(new.get(key) or []) != len(old.get(key) or []):
            return [forbidden(path("spec", key), "pod updates may not add or remove containers")]
    deadline, old_deadline = new.get("activeDeadlineSeconds"), old.get("activeDeadlineSeconds")
    if deadline is not None and old_deadline is not None and deadline > old_deadline:
        causes.append(invalid("spec.activeDeadlineSeconds", deadline,
                              "must be less than or equal to previous value"))
    elif deadline is None and old_deadline is not None:
        causes.append(invalid("spec.activeDeadlineSeconds", None,
                              "must not update from a positive integer to nil value"))
    new_tolerations = new.get("tolerations") or []
    for toleration in old.get("tolerations") or []:
        if not any(_same_except_seconds(toleration, t) for t in new_tolerations):
            causes.append(forbidden("spec.tolerations",
                                    "existing toleration can not be modified except its tolerationSeconds"))
            break
    old_gates = {g.get("name") for g in old.get("schedulingGates") or []}
    for i, gate in enumerate(new.get("schedulingGates") or []):
        if gate.get("name") not in old_gates:
            causes.append(forbidden(path("spec", "schedulingGates", i, "name"),
                                    f"only deletion is allowed, but found new scheduling gate '{gate.get('name')}'"))
    munged = _munge(new, old)
    if _semantic(munged) != _semantic(old):
        diff = "\n".join(difflib.unified_diff(
            _render(old).splitlines(), _render(munged).splitlines(), lineterm="", n=2))
        causes.append(forbidden("spec", "pod updates may not change fields other than "
                                + ",".join(UPDATABLE_POD_SPEC_FIELDS) + "\n" + diff))
    return causes


def _munge(new: Obj, old: Obj) -> Obj:
    """The new spec with every field an update may change taken from the old one."""
    munged = copy.deepcopy(new)
    for key in ("containers", "initContainers"):
        for container, old_container in zip(munged.get(key) or [], old.get(key) or []):
            if isinstance(container, dict) and isinstance(old_container, dict):
                container["image"] = old_container.get("image")
    for key in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        if key in old:
            munged[key] = copy.deepcopy(old[key])
        else:
            munged.pop(key, None)
    grace = old.get("terminationGracePeriodSeconds")
    if isinstance(grace, int) and grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = grace
    return munged


def _same_except_seconds(old: Obj, new: Obj) -> bool:
    def strip(t: Obj) -> Obj:
        return {k: v for k, v in t.items() if k != "tolerationSeconds"}
    return bool(_semantic(strip(old)) == _semantic(strip(new)))


def _semantic(value: Any) -> Any:
    """apiequality.Semantic's view of JSON: unset and zero values are the same."""
    if isinstance(value, dict):
        out = {k: _semantic(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", 0, False, [], {})}
    if isinstance(value, list):
        return [_semantic(v) for v in value]
    return value


def _render(spec: Obj) -> str:
    return json.dumps(_semantic(spec), indent=1, sort_keys=True)


def merge_label_keys(pod: Obj) -> None:
    """Upstream's mutatePodAffinity and mutateTopologySpreadConstraints: the values of the
    pod's own labels named in matchLabelKeys (`key In (value)`) and mismatchLabelKeys
    (`key NotIn (value)`) join each term's labelSelector at creation, so the scheduler and
    everyone reading the pod see one selector. A term without a labelSelector matches
    nothing and stays so; keys the pod lacks add nothing."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    spec = pod.get("spec") or {}
    terms: list[Obj] = list(spec.get("topologySpreadConstraints") or ())
    affinity = spec.get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        rules = affinity.get(kind) or {}
        terms += rules.get("requiredDuringSchedulingIgnoredDuringExecution") or ()
        terms += [weighted.get("podAffinityTerm") or {}
                  for weighted in rules.get("preferredDuringSchedulingIgnoredDuringExecution") or ()]
    for term in terms:
        selector = term.get("labelSelector")
        if not isinstance(selector, dict):
            continue
        for field, operator in (("matchLabelKeys", "In"), ("mismatchLabelKeys", "NotIn")):
            for key in term.get(field) or ():
                if key in labels:
                    selector.setdefault("matchExpressions", []).append(
                        {"key": key, "operator": operator, "values": [labels[key]]})
