"""Server-side Table output: what `kubectl get` prints, built by the API server.

`table_for` turns objects of one kind into a meta.k8s.io/v1 Table, with the columns
and cells of upstream's printers (pkg/printers/internalversion/printers.go), printed
wide as kube-apiserver always does. Kinds without a printer get upstream's default
table (rest.defaultTableConvertor: NAME and "Created At" as an RFC 3339 date);
custom resources get their CRD version's additionalPrinterColumns (see `crd`).

Guarantees: rows come out in the order given (FlowSchemas excepted: upstream sorts
them); each row has one cell per column; objects are never copied or modified (a
row's "object" refers to the stored object or its metadata). The cost is one pass
over the objects with constant work per row, so a 10,000-pod LIST stays cheap.
Ages are computed against the caller's `now`.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from kubelite.apiserver.printers import access, apps, batch, core, events, networking, other, policy, pods, storage
from kubelite.apiserver.printers.age import ZERO, parse_time, to_micros
from kubelite.apiserver.printers.crd import crd_printer
from kubelite.apiserver.printers.printer import NAME, Obj, Printer, column
from kubelite.machinery.errors import BadRequest

PRINTERS: dict[tuple[str, str], Printer] = {}
for _module in (pods, core, events, storage, apps, batch, networking, policy, access, other):
    PRINTERS.update(_module.PRINTERS)


def _created_at(value: Any) -> str:
    """metav1.Time.UTC().Format(time.RFC3339); the zero time when unset."""
    if isinstance(value, str) and len(value) == 20 and value.endswith("Z"):
        return value  # already RFC 3339 in UTC at second precision, the stored form
    moment = parse_time(value)
    if moment == ZERO:
        return "0001-01-01T00:00:00Z"
    return datetime.fromtimestamp(moment // 1_000_000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


DEFAULT = Printer(
    columns=(
        NAME,
        column("Created At", "date", "CreationTimestamp is the time the object was created."),
    ),
    cells=lambda obj, now: [
        (obj.get("metadata") or {}).get("name") or "",
        _created_at((obj.get("metadata") or {}).get("creationTimestamp")),
    ],
)

INCLUDE_OBJECT = ("None", "Metadata", "Object")


def printer_for(group: str, kind: str, crd_columns: list[dict[str, Any]] | None = None) -> Printer:
    """The printer for a kind: the CRD's when `crd_columns` is given, else upstream's or the default."""
    if crd_columns is not None:
        return crd_printer(crd_columns)
    return PRINTERS.get((group, kind), DEFAULT)


def table_for(
    group: str,
    kind: str,
    objs: list[Obj],
    *,
    include_object: str = "Metadata",
    now: datetime,
    crd_columns: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A meta.k8s.io/v1 Table of `objs` (all of kind `group`/`kind`).

    `include_object` is the TableOptions.includeObject value: "Metadata" (also "")
    puts a PartialObjectMetadata in each row, "Object" the object itself, "None"
    nothing. For custom resources pass `crd_columns`, the served version's
    additionalPrinterColumns (an empty list for none); for built-in kinds leave it
    None. The caller fills the Table's metadata (resourceVersion, continue).
    """
    if include_object == "":
        include_object = "Metadata"
    if include_object not in INCLUDE_OBJECT:
        raise BadRequest(
            f'includeObject: Unsupported value: "{include_object}": supported values: "Metadata", "None", "Object"'
        )
    printer = printer_for(group, kind, crd_columns)
    if printer.order is not None:
        objs = printer.order(objs)
    now_us = to_micros(now)
    cells = printer.cells
    conditions = printer.conditions
    rows: list[dict[str, Any]] = []
    append = rows.append
    for obj in objs:
        row: dict[str, Any] = {"cells": cells(obj, now_us)}
        if conditions is not None and (found := conditions(obj)) is not None:
            row["conditions"] = [dict(condition) for condition in found]
        if include_object == "Metadata":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": obj.get("metadata") or {},
            }
        elif include_object == "Object":
            row["object"] = obj
        append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {},
        "columnDefinitions": [dict(col) for col in printer.columns],
        "rows": rows,
    }


__all__ = ["DEFAULT", "PRINTERS", "Printer", "printer_for", "table_for"]
