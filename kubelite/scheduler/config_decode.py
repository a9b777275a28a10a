"""Strict decoding of configuration documents against small schemas of the Go types.

kube-scheduler reads its file with a strict decoder: a field the Go struct does not have is
an error (`unknown field "profiles[0].foo"`), and so is a value of the wrong JSON type
(`json: cannot unmarshal string into Go struct field KubeSchedulerProfile.profiles.
percentageOfNodesToScore of type int32`). The schemas here are those structs, by their JSON
names; `check` walks a parsed document against one and returns every complaint, not just
the first, so the user sees them all at once. A JSON null is always accepted (Go leaves the
field at its zero value); "raw" accepts anything (a plugin's args, decoded by the plugin).

`load_document` parses YAML or JSON (JSON is YAML) and refuses a mapping key given twice,
as sigs.k8s.io/yaml's strict mode does, instead of silently keeping the last one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import yaml

from kubelite.api.protobuf.wellknown import parse_duration
from kubelite.machinery.go_json import json_value_name
from kubelite.machinery.validation import go_quote
from kubelite.scheduler.config_errors import DecodeError, child, index

INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


@dataclass(frozen=True, slots=True)
class Struct:
    go_name: str  # e.g. "v1.KubeSchedulerProfile"; the part after the dot names errors
    fields: Mapping[str, Schema] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Schema


@dataclass(frozen=True, slots=True)
class MapOf:
    value: Schema


# "string" | "bool" | "int32" | "int64" | "float64" | "duration" | "raw"
Schema = Union[str, Struct, ListOf, MapOf]


def _go_type(schema: Schema) -> str:
    if isinstance(schema, Struct):
        return schema.go_name
    if isinstance(schema, ListOf):
        return "[]" + _go_type(schema.item)
    if isinstance(schema, MapOf):
        return "map[string]" + _go_type(schema.value)
    return {"duration": "v1.Duration", "raw": "runtime.RawExtension"}.get(schema, schema)


@dataclass(slots=True)
class _Walk:
    errors: list[DecodeError] = field(default_factory=list)

    def type_error(self, what: str, struct: str, go_path: str, schema: Schema) -> None:
        self.errors.append(DecodeError(
            f"json: cannot unmarshal {what} into Go struct field {struct}.{go_path} "
            f"of type {_go_type(schema)}", strict=False))

    def visit(self, value: Any, schema: Schema, path: str, struct: str, go_path: str) -> None:
        if value is None or schema == "raw":
            return
        if isinstance(schema, Struct):
            if not isinstance(value, dict):
                self.type_error(json_value_name(value), struct, go_path, schema)
                return
            name = schema.go_name.rsplit(".", 1)[-1]
            for key, item in value.items():
                sub = schema.fields.get(key)
                if sub is None:
                    self.errors.append(DecodeError.unknown_field(child(path, str(key))))
                else:
                    self.visit(item, sub, child(path, key), name, child(go_path, key))
        elif isinstance(schema, ListOf):
            if not isinstance(value, list):
                self.type_error(json_value_name(value), struct, go_path, schema)
                return
            for i, item in enumerate(value):
                self.visit(item, schema.item, index(path, i), struct, go_path)
        elif isinstance(schema, MapOf):
            if not isinstance(value, dict):
                self.type_error(json_value_name(value), struct, go_path, schema)
                return
            for key, item in value.items():
                self.visit(item, schema.value, child(path, str(key)), struct, go_path)
        else:
            self.scalar(value, schema, struct, go_path)

    def scalar(self, value: Any, schema: str, struct: str, go_path: str) -> None:
        kind = json_value_name(value)
        if schema in ("string", "duration"):
            if kind != "string":
                self.type_error(kind, struct, go_path, "string" if schema == "duration" else schema)
            elif schema == "duration":
                try:
                    parse_duration(value)
                except ValueError:
                    self.errors.append(DecodeError(
                        f"time: invalid duration {go_quote(value)}", strict=False))
        elif schema == "bool":
            if kind != "bool":
                self.type_error(kind, struct, go_path, schema)
        elif schema in INT_RANGES:
            low, high = INT_RANGES[schema]
            if kind != "number":
                self.type_error(kind, struct, go_path, schema)
            elif isinstance(value, float) and not value.is_integer():
                self.type_error(f"number {value}", struct, go_path, schema)
            elif not low <= int(value) <= high:
                self.type_error(f"number {int(value)}", struct, go_path, schema)
        elif schema == "float64" and kind != "number":
            self.type_error(kind, struct, go_path, schema)


def check(value: Any, schema: Struct) -> list[DecodeError]:
    """Every unknown field and mistyped value of `value`, read as `schema`."""
    walk = _Walk()
    walk.visit(value, schema, "", schema.go_name.rsplit(".", 1)[-1], "")
    return walk.errors


def strict(errors: list[DecodeError]) -> list[DecodeError]:
    return [e for e in errors if e.strict]


def fatal(errors: list[DecodeError]) -> list[DecodeError]:
    return [e for e in errors if not e.strict]


class _StrictLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f'key {go_quote(str(key))} already set in map',
                    key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def load_document(text: str) -> Any:
    """The one document in `text` (YAML or JSON); ValueError with the parser's complaint."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ValueError(f"yaml: {error}") from None
