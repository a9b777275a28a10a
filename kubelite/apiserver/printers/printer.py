"""What a printer is: a kind's column definitions and a function from object to cells.

Mirrors upstream's `TableHandler(columnDefinitions, printFunc)` registrations in
pkg/printers/internalversion/printers.go. The API server always prints with
`Wide: true` (pkg/printers/storage), so every column, including priority-1 ones that
kubectl shows only with `-o wide`, has a cell in every row, in column order.

Column descriptions are short forms of upstream's (which come from the Go field docs);
kubectl never prints them. Names, types, formats and priorities are upstream's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kubelite.apiserver.printers.age import since
from kubelite.apiserver.printers.cells import int_of, template_containers

Obj = dict[str, Any]
Column = dict[str, Any]
# (object, now in epoch microseconds) -> cells, one per column
CellsFn = Callable[[Obj, int], list[Any]]


def column(
    name: str,
    type_: str = "string",
    description: str = "",
    *,
    format_: str = "",
    priority: int = 0,
) -> Column:
    """A metav1.TableColumnDefinition as its wire dict (all five fields always present)."""
    return {
        "name": name,
        "type": type_,
        "format": format_,
        "description": description,
        "priority": priority,
    }


NAME = column(
    "Name",
    description="Name must be unique within a namespace; it identifies the object.",
    format_="name",
)
AGE = column(
    "Age",
    description="CreationTimestamp is the time the object was created, shown as its age.",
)


def containers_column(priority: int = 1) -> Column:
    return column("Containers", description="Names of each container in the template.", priority=priority)


def images_column(priority: int = 1) -> Column:
    return column("Images", description="Images referenced by each container in the template.", priority=priority)


def selector_column(description: str = "The label selector of the object.") -> Column:
    return column("Selector", description=description, priority=1)


@dataclass(frozen=True, slots=True)
class Printer:
    """How one kind prints: its columns and its row builder.

    `conditions` gives a row's metav1.TableRowCondition list (only pods have them);
    `order` reorders the objects before printing (only FlowSchemas, which upstream
    sorts by matching precedence).
    """

    columns: tuple[Column, ...]
    cells: CellsFn
    conditions: Callable[[Obj], list[Obj] | None] | None = None
    order: Callable[[list[Obj]], list[Obj]] | None = None


def replica_cells(format_selector: Callable[[Any], str]) -> CellsFn:
    """printReplicaSet and printReplicationController: one row shape, told apart only by
    how the selector prints (a LabelSelector, or a plain label map)."""
    def build(obj: Obj, now: int) -> list[Any]:
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        status = obj.get("status") or {}
        names, images = template_containers(spec, "template")
        return [meta.get("name") or "", int_of(spec.get("replicas"), 1),
                int_of(status.get("replicas")), int_of(status.get("readyReplicas")),
                since(meta.get("creationTimestamp"), now), names, images,
                format_selector(spec.get("selector"))]

    return build


def name_cells_age(*cells: Callable[[Obj], Any]) -> CellsFn:
    """The common row shape: name, the given per-object cells, then age."""
    def build(obj: Obj, now: int) -> list[Any]:
        meta = obj.get("metadata") or {}
        return [meta.get("name") or "", *[cell(obj) for cell in cells], since(meta.get("creationTimestamp"), now)]

    return build
