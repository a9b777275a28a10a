"""Field causes worded as upstream's `field.Error` (apimachinery/pkg/util/validation/field).

A cause carries the reason (`FieldValueInvalid`...), the dotted field path and the
error body exactly as kube-apiserver prints it: `Invalid value: "x": detail`,
`Required value`, `Unsupported value: "Foo": supported values: "A", "B"`. Values print
the way upstream's `ErrorBody` does: strings Go-quoted, numbers and booleans bare, and
anything else (maps, lists, objects) as compact JSON with sorted keys.
"""

from __future__ import annotations

import json
from typing import Any, Iterable

from kubelite.machinery.errors import Cause


def path(*parts: str | int) -> str:
    """`path("spec", "containers", 0, "name")` -> `spec.containers[0].name`."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif out:
            out += "." + part
        else:
            out = part
    return out


def render_value(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return quote(value)
    # Go's json.Marshal: sorted map keys, no spaces, HTML characters escaped.
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def quote(text: str) -> str:
    """Go's %q for the strings validation meets (close to JSON string escaping)."""
    return json.dumps(text, ensure_ascii=False)


def required(field: str, detail: str = "") -> Cause:
    return Cause("FieldValueRequired", _body("Required value", detail), field)


def invalid(field: str, value: Any, detail: str = "") -> Cause:
    return Cause("FieldValueInvalid", _body(f"Invalid value: {render_value(value)}", detail), field)


def not_supported(field: str, value: Any, valid: Iterable[str]) -> Cause:
    quoted = ", ".join(quote(v) for v in valid)
    detail = f"supported values: {quoted}" if quoted else ""
    return Cause(
        "FieldValueNotSupported", _body(f"Unsupported value: {render_value(value)}", detail), field
    )


def duplicate(field: str, value: Any) -> Cause:
    return Cause("FieldValueDuplicate", f"Duplicate value: {render_value(value)}", field)


def not_found(field: str, value: Any) -> Cause:
    return Cause("FieldValueNotFound", f"Not found: {render_value(value)}", field)


def forbidden(field: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", _body("Forbidden", detail), field)


def too_long(field: str, max_length: int) -> Cause:
    return Cause("FieldValueTooLong", f"Too long: must have at most {max_length} bytes", field)


def immutable(field: str, value: Any) -> Cause:
    """apivalidation.ValidateImmutableField."""
    return invalid(field, value, "field is immutable")


def nonnegative(field: str, value: Any) -> list[Cause]:
    """apivalidation.ValidateNonnegativeField."""
    if isinstance(value, int) and not isinstance(value, bool) and value < 0:
        return [invalid(field, value, "must be greater than or equal to 0")]
    return []


def _body(head: str, detail: str) -> str:
    return f"{head}: {detail}" if detail else head
