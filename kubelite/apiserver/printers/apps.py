"""apps/v1 workloads: upstream's printDeployment, printReplicaSet, printStatefulSet,
printDaemonSet and printControllerRevision.

Deployments print their selector with LabelSelectorAsSelector (empty selector: "",
malformed: "<invalid>") while the others use FormatLabelSelector ("<none>", "<error>"):
the difference is upstream's and kept.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.printers.age import since
from kubelite.apiserver.printers.cells import (
    NONE,
    InvalidSelector,
    format_label_selector,
    format_labels,
    get,
    group_kind_name,
    int_of,
    meta,
    selector_string,
    template_containers,
)
from kubelite.apiserver.printers.printer import (
    AGE,
    NAME,
    Obj,
    Printer,
    column,
    containers_column,
    replica_cells,
    images_column,
    selector_column,
)


def deployment_cells(obj: Obj, now: int) -> list[Any]:
    m, spec, status = meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    try:
        selector = selector_string(spec.get("selector"))
    except InvalidSelector:
        selector = "<invalid>"
    names, images = template_containers(spec, "template")
    return [
        m.get("name") or "",
        f"{int_of(status.get('readyReplicas'))}/{int_of(spec.get('replicas'), 1)}",
        int_of(status.get("updatedReplicas")),
        int_of(status.get("availableReplicas")),
        since(m.get("creationTimestamp"), now),
        names,
        images,
        selector,
    ]


DEPLOYMENT = Printer(
    columns=(
        NAME,
        column("Ready", description="Number of the pod with ready state"),
        column("Up-to-date", description="Pods of this deployment that have the desired template."),
        column("Available", description="Total number of available pods targeted by this deployment."),
        AGE,
        containers_column(),
        images_column(),
        selector_column("Label selector for pods."),
    ),
    cells=deployment_cells,
)


REPLICA_SET = Printer(
    columns=(
        NAME,
        column("Desired", "integer", "Number of desired pods."),
        column("Current", "integer", "The most recently observed number of replicas."),
        column("Ready", "integer", "The number of ready replicas for this replica set."),
        AGE,
        containers_column(),
        images_column(),
        selector_column("Label query over pods that should match the replica count."),
    ),
    cells=replica_cells(format_label_selector),
)


def stateful_set_cells(obj: Obj, now: int) -> list[Any]:
    m, spec, status = meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(spec, "template")
    return [
        m.get("name") or "",
        f"{int_of(status.get('readyReplicas'))}/{int_of(spec.get('replicas'), 1)}",
        since(m.get("creationTimestamp"), now),
        names,
        images,
    ]


STATEFUL_SET = Printer(
    columns=(
        NAME,
        column("Ready", description="Number of the pod with ready state"),
        AGE,
        containers_column(),
        images_column(),
    ),
    cells=stateful_set_cells,
)


def daemon_set_cells(obj: Obj, now: int) -> list[Any]:
    m, spec, status = meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    names, images = template_containers(spec, "template")
    return [
        m.get("name") or "",
        int_of(status.get("desiredNumberScheduled")),
        int_of(status.get("currentNumberScheduled")),
        int_of(status.get("numberReady")),
        int_of(status.get("updatedNumberScheduled")),
        int_of(status.get("numberAvailable")),
        format_labels(get(spec, "template", "spec", "nodeSelector")),
        since(m.get("creationTimestamp"), now),
        names,
        images,
        format_label_selector(spec.get("selector")),
    ]


DAEMON_SET = Printer(
    columns=(
        NAME,
        column("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
        column("Current", "integer", "The number of nodes running at least one daemon pod that should."),
        column("Ready", "integer", "The number of nodes whose daemon pod is ready."),
        column("Up-to-date", "integer", "The number of nodes running the updated daemon pod."),
        column("Available", "integer", "The number of nodes whose daemon pod is available."),
        column("Node Selector", description="The node selector of the pod template."),
        AGE,
        containers_column(),
        images_column(),
        selector_column("A label query over pods that are managed by the daemon set."),
    ),
    cells=daemon_set_cells,
)


def controller_of(obj: Obj) -> Obj | None:
    """metav1.GetControllerOf: the owner reference with controller=true."""
    for ref in meta(obj).get("ownerReferences") or ():
        if ref.get("controller") is True:
            return dict(ref)
    return None


def controller_revision_cells(obj: Obj, now: int) -> list[Any]:
    m = meta(obj)
    ref = controller_of(obj)
    controller = NONE
    if ref is not None:
        controller = group_kind_name(ref.get("apiVersion") or "", ref.get("kind") or "", ref.get("name") or "")
    return [m.get("name") or "", controller, int_of(obj.get("revision")), since(m.get("creationTimestamp"), now)]


CONTROLLER_REVISION = Printer(
    columns=(
        NAME,
        column("Controller", description="Controller of the object"),
        column("Revision", description="Revision indicates the revision of the state represented by Data."),
        AGE,
    ),
    cells=controller_revision_cells,
)

PRINTERS = {
    ("apps", "Deployment"): DEPLOYMENT,
    ("apps", "ReplicaSet"): REPLICA_SET,
    ("apps", "StatefulSet"): STATEFUL_SET,
    ("apps", "DaemonSet"): DAEMON_SET,
    ("apps", "ControllerRevision"): CONTROLLER_REVISION,
}
