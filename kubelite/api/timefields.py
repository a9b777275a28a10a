"""Timestamps in built-in objects, in the one form kube-apiserver stores.

metav1.Time is RFC 3339 in UTC to the second (`2024-05-06T05:08:09Z`), metav1.MicroTime
to the microsecond (`2024-05-06T05:08:09.123456Z`): Go decodes whatever offset and
precision a client sent and encodes it back in that form. kubelite stores objects as
JSON, so it does the same rewrite on the way in, and refuses what is not a time.

The pinned schemas say where the times are. Each definition is turned once into a
plan naming only the properties that lead to a time, so normalizing an object walks
those branches alone.
"""

from __future__ import annotations

import datetime
import functools
import re
from typing import Any, Union

from kubelite.api import schemas
from kubelite.api.catalogue import GVK
from kubelite.api.schemas import MICRO_TIME, TIME
from kubelite.machinery import errors

Obj = dict[str, Any]

# A plan: "time" or "micro" for a leaf, ("object", {prop: plan}), ("list", plan),
# ("map", plan).
Plan = Union[str, tuple[str, Any]]

_FRACTION = re.compile(r"\.(\d+)")


def _plan_of(schema: schemas.Schema, visiting: frozenset[str]) -> Plan | None:
    name = schemas.ref_name(schema)
    if name == TIME:
        return "time"
    if name == MICRO_TIME:
        return "micro"
    if name is not None:
        if name in visiting:
            return None  # a recursive type (JSONSchemaProps) holds no times
        return _definition_plan(name, visiting | {name})
    items = schema.get("items")
    if isinstance(items, dict):
        inner = _plan_of(items, visiting)
        return ("list", inner) if inner is not None else None
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        inner = _plan_of(extra, visiting)
        return ("map", inner) if inner is not None else None
    props = schema.get("properties")
    if isinstance(props, dict):
        fields = {k: p for k, v in props.items() if (p := _plan_of(v, visiting)) is not None}
        return ("object", fields) if fields else None
    return None


def _definition_plan(name: str, visiting: frozenset[str]) -> Plan | None:
    return _plan_of(schemas.definitions()[name], visiting)


@functools.cache
def plan_for(gvk: GVK) -> Plan | None:
    name = schemas.definition_name(gvk)
    return _definition_plan(name, frozenset({name})) if name else None


def normalize(gvk: GVK, obj: Obj) -> None:
    """Rewrite every Time and MicroTime of a built-in object in place; 400 on a value
    that is not an RFC 3339 time."""
    plan = plan_for(gvk)
    if plan is not None:
        _apply(plan, obj, "")


def _apply(plan: Plan, value: Any, path: str) -> Any:
    if value is None:
        return None
    if isinstance(plan, str):
        return _format(value, path, micro=plan == "micro")
    kind, inner = plan
    if kind == "object" and isinstance(value, dict):
        for key, sub in inner.items():
            if key in value:
                value[key] = _apply(sub, value[key], f"{path}.{key}" if path else key)
    elif kind == "list" and isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = _apply(inner, item, f"{path}[{i}]")
    elif kind == "map" and isinstance(value, dict):
        for key in value:
            value[key] = _apply(inner, value[key], f"{path}[{key}]")
    return value


def _format(value: Any, path: str, *, micro: bool) -> str:
    stored = _stored_form(value, micro) if isinstance(value, str) else None
    if stored is None:
        raise errors.BadRequest(
            f'{path}: invalid time {value!r}: must be RFC 3339 (e.g. "2006-01-02T15:04:05Z")')
    return stored


# An object carries the same few stamps again and again (every managedFields entry and
# condition of the second it was written), and each rewrite parses and formats a date.
@functools.lru_cache(maxsize=4096)
def _stored_form(value: str, micro: bool) -> str | None:
    """The stored spelling of an RFC 3339 time, or None if `value` is not one."""
    # Go accepts nanoseconds; Python's parser takes at most microseconds.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], value, count=1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None or "T" not in text.upper():
        return None
    moment = moment.astimezone(datetime.UTC)
    if micro:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
