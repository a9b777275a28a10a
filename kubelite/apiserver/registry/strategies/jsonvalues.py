"""Reading request JSON whose shape is not guaranteed: kubelite keeps objects as plain
dicts and decodes no Go structs, so a field of the wrong JSON type reaches validation.
These readers treat such a field as absent (Go's zero value), so a malformed object
gets a 422 on the rules it breaks instead of a crash."""

from __future__ import annotations

from typing import Any


def as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str:
    return value if isinstance(value, str) else ""
