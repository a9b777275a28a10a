"""Tables for custom resources: the apiextensions-apiserver table convertor.

Columns are NAME plus the CRD version's additionalPrinterColumns; a version that
declares none gets a single "Age" date column from .metadata.creationTimestamp
(serveDefaultColumnsIfEmpty). Each column's JSONPath picks the first value it finds;
nothing found gives a null cell. Values become cells by column type, as
cellForJSONValue does: integer truncates numbers, number widens integers, boolean and
string take only their own JSON type, date turns an RFC 3339 string into a short age
("5m", "3d"; "<invalid>" if unparseable). A string column prints any value the way
jsonpath.PrintResults does: scalars with Go's %v, objects and arrays as compact JSON.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.apiserver.printers.age import ZERO, parse_time, short_human_duration
from kubelite.apiserver.printers.cells import meta
from kubelite.apiserver.printers.jsonpath import PathError, compile_path, evaluate
from kubelite.apiserver.printers.printer import NAME, Column, Obj, Printer, column
from kubelite.machinery.go_json import go_float

DEFAULT_COLUMNS = (
    {
        "name": "Age",
        "type": "date",
        "jsonPath": ".metadata.creationTimestamp",
        "description": "CreationTimestamp is the time the object was created, shown as its age.",
    },
)


def _go_json(value: Any) -> str:
    """encoding/json.Marshal: sorted keys, compact, <, > and & escaped."""
    text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def print_value(value: Any) -> str:
    """jsonpath.PrintResults of one value."""
    if value is None:
        return "<no value>"
    if isinstance(value, (dict, list)):
        return _go_json(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def cell_for(type_: str, value: Any, now: int) -> Any:
    """cellForJSONValue for the non-string column types."""
    if value is None:
        return None
    if type_ == "integer":
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            return int(value)
        return None
    if type_ == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)
    if type_ == "boolean":
        return value if isinstance(value, bool) else None
    if type_ == "date":
        if not isinstance(value, str):
            return None
        if value in ("", "null"):
            return "<unknown>"
        moment = parse_time(value)
        if moment == ZERO:
            return "<invalid>"
        return short_human_duration(now - moment)
    return None


def _definition(spec: dict[str, Any]) -> Column:
    path = spec.get("jsonPath") or ""
    description = spec.get("description") or f"Custom resource definition column (in JSONPath format): {path}"
    return column(
        spec.get("name") or "",
        spec.get("type") or "string",
        description,
        format_=spec.get("format") or "",
        priority=int(spec.get("priority") or 0),
    )


def crd_printer(crd_columns: list[dict[str, Any]]) -> Printer:
    """The printer for one CRD version, given its additionalPrinterColumns."""
    specs = crd_columns or list(DEFAULT_COLUMNS)
    evaluators: list[tuple[tuple[Any, ...] | None, str]] = []
    for spec in specs:
        try:
            steps: tuple[Any, ...] | None = compile_path(spec.get("jsonPath") or "")
        except PathError:
            steps = None  # CRD validation rejects these; print an empty column rather than fail
        evaluators.append((steps, spec.get("type") or "string"))

    def cells(obj: Obj, now: int) -> list[Any]:
        row: list[Any] = [meta(obj).get("name") or ""]
        for steps, type_ in evaluators:
            found = evaluate(steps, obj) if steps is not None else []
            if not found:
                row.append(None)
            elif type_ == "string":
                row.append(print_value(found[0]))
            else:
                row.append(cell_for(type_, found[0], now))
        return row

    return Printer(columns=(NAME, *(_definition(spec) for spec in specs)), cells=cells)
