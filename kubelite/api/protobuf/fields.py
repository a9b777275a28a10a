"""The field table, parsed: message definition name -> field number -> `Field`.

`table.py` holds the data as text (see its docstring for the notation); this module turns
it into records once, on first use, and finds the message for an apiVersion and kind.
Definition names are the OpenAPI ones (`io.k8s.api.core.v1.Pod`), so the same name
reaches both this table and `kubelite.api.schemas`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from kubelite.api import schemas
from kubelite.api.catalogue import GVK
from kubelite.api.protobuf.table import TABLE


SCALARS = frozenset({"bool", "int32", "int64", "uint32", "uint64", "float", "double",
                     "string", "bytes"})


@dataclass(frozen=True, slots=True)
class Field:
    number: int
    name: str  # the JSON name; "-" for an inline field, whose fields join the parent's
    elem: str  # scalar type or message definition name (of the items/values if repeated)
    repeated: bool = False  # a list of elem
    map_key: str | None = None  # a map from map_key to elem (entries {key=1, value=2})
    pointer: bool = False  # a Go pointer: present means set, even to a zero value
    keep: bool = False  # no omitempty: Go writes the zero value into JSON
    omitzero: bool = False
    inline: bool = False
    wrapped: bool = False  # a named slice: each value is a message {repeated items = 1}

    @property
    def is_message(self) -> bool:
        return self.elem not in SCALARS


Message = dict[int, Field]


def _parse_type(text: str) -> tuple[str, bool, str | None]:
    """(elem, repeated, map_key) from `@x`, `[]@x`, `map[string]@x`, `string`..."""
    if text.startswith("map["):
        key, _, value = text[4:].partition("]")
        elem, _, _ = _parse_type(value)
        return elem, False, key
    if text.startswith("[]"):
        return _parse_type(text[2:])[0], True, None
    return text.removeprefix("@"), False, None


@functools.cache
def messages() -> dict[str, Message]:
    out: dict[str, Message] = {}
    current: Message = {}
    for line in TABLE.splitlines():
        if not line.startswith(" "):
            current = out.setdefault(line.strip(), {})
            continue
        number, name, type_text, *flags = line.split()
        elem, repeated, map_key = _parse_type(type_text)
        current[int(number)] = Field(
            number=int(number), name=name, elem=elem, repeated=repeated, map_key=map_key,
            pointer="ptr" in flags, keep="keep" in flags, omitzero="omitzero" in flags,
            inline="inline" in flags, wrapped="wrapped" in flags)
    return out


@functools.cache
def by_name(definition: str) -> dict[str, Field]:
    """A message's fields by JSON name (inline fields under their number, as `-N`)."""
    return {(f"-{f.number}" if f.inline else f.name): f for f in messages()[definition].values()}


def message(definition: str) -> Message:
    try:
        return messages()[definition]
    except KeyError:
        raise KeyError(f"no protobuf message for {definition}") from None


@functools.cache
def definition_for(api_version: str, kind: str) -> str | None:
    """The message of a kind, None if kubelite has no protobuf table for it."""
    group, _, version = api_version.rpartition("/")
    name = schemas.definition_name(GVK(group, version, kind))
    if name and name in messages():
        return name
    # Kinds without a schema entry: try the Go package the group lives in, then meta/v1
    # (DeleteOptions and Status travel under every group's apiVersion).
    package = group.split(".")[0] if group else "core"
    for name in (f"io.k8s.api.{package}.{version}.{kind}", schemas.META + kind):
        if name in messages():
            return name
    return None
