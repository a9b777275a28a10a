"""How Go's encoding/json words a value of the wrong type, for the 400s kubelite gives
where kube-apiserver's decoder would fail (`json: cannot unmarshal array into Go struct
field ConfigMap.data of type map[string]string`)."""

from __future__ import annotations

from typing import Any


def json_value_name(value: Any) -> str:
    """The name encoding/json gives a JSON value in an UnmarshalTypeError."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def unmarshal_type_error(what: str, type_name: str, struct: str = "", path: str = "") -> str:
    """encoding/json's UnmarshalTypeError.Error(): `what` is a `json_value_name` (or a
    literal such as `number 1.5`), `struct.path` the field when there is one."""
    if struct or path:
        return f"json: cannot unmarshal {what} into Go struct field {struct}.{path} of type " \
               f"{type_name}"
    return f"json: cannot unmarshal {what} into Go value of type {type_name}"


def cannot_be_handled(kind: str, version: str, why: object) -> str:
    """How kube-apiserver words a body its decoder refused for the endpoint's kind."""
    return f'{kind} in version "{version}" cannot be handled as a {kind}: {why}'
