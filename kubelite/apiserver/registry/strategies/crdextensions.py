"""The x-kubernetes-* extensions of a CRD schema node, checked as apiextensions'
ValidateCustomResourceDefinitionOpenAPISchema checks them: list-type and map-type
values and where they may appear, list-map-keys (non-empty, naming required or
defaulted scalar item properties), set items that are atomic, preserve-unknown-fields
never false, and the static parts of x-kubernetes-validations (a rule, a one-line
message, a known reason, a sane fieldPath). The CEL rules themselves are not compiled.
"""

from __future__ import annotations

import re
from typing import Any

from kubelite.machinery.errors import Cause

from .causes import forbidden, invalid, not_supported, required
from .jsonvalues import as_list, as_object, as_str

Schema = dict[str, Any]

_VALIDATION_REASONS = ("FieldValueDuplicate", "FieldValueForbidden", "FieldValueInvalid",
                       "FieldValueRequired")


def extension_causes(schema: Schema, path: str) -> list[Cause]:
    causes: list[Cause] = []
    kind = schema.get("type") or ""
    if schema.get("x-kubernetes-preserve-unknown-fields") is False:
        causes.append(invalid(path + ".x-kubernetes-preserve-unknown-fields", False,
                              "must be true or undefined"))
    map_type = schema.get("x-kubernetes-map-type")
    if map_type is not None:
        if kind != "object":
            causes.append(_type_must_be(path, kind, "must be object if x-kubernetes-map-type "
                                                    "is specified"))
        if map_type not in ("atomic", "granular"):
            causes.append(not_supported(path + ".x-kubernetes-map-type", map_type,
                                        ("atomic", "granular")))
    list_type = schema.get("x-kubernetes-list-type")
    items = schema.get("items")
    if list_type is not None and kind != "array":
        causes.append(_type_must_be(path, kind, "must be array if x-kubernetes-list-type is "
                                                "specified"))
    elif list_type == "set" and isinstance(items, dict):
        # set items are compared whole, so they must be atomic themselves
        if items.get("type") == "array" and items.get("x-kubernetes-list-type") not in (
                None, "atomic"):
            causes.append(invalid(path + ".items.x-kubernetes-list-type",
                                  items.get("x-kubernetes-list-type"),
                                  "must be atomic as item of a list with "
                                  "x-kubernetes-list-type=set"))
        elif items.get("type") == "object" and items.get("x-kubernetes-map-type") != "atomic":
            # upstream reports the list type here, not the map type
            causes.append(invalid(path + ".items.x-kubernetes-map-type",
                                  items.get("x-kubernetes-list-type"),
                                  "must be atomic as item of a list with "
                                  "x-kubernetes-list-type=set"))
    if list_type is not None and list_type not in ("atomic", "set", "map"):
        causes.append(not_supported(path + ".x-kubernetes-list-type", list_type,
                                    ("atomic", "set", "map")))
    return causes


def _type_must_be(path: str, kind: Any, detail: str) -> Cause:
    if not kind:
        return required(path + ".type", detail)
    return invalid(path + ".type", kind, detail)


def map_list_key_causes(schema: Schema, path: str) -> list[Cause]:
    causes: list[Cause] = []
    list_type = schema.get("x-kubernetes-list-type")
    keys = as_list(schema.get("x-kubernetes-list-map-keys"))
    items = schema.get("items")
    if keys:
        if list_type is None:
            causes.append(required(path + ".x-kubernetes-list-type",
                                   "must be map if x-kubernetes-list-map-keys is non-empty"))
        elif list_type != "map":
            causes.append(invalid(path + ".x-kubernetes-list-type", list_type,
                                  "must be map if x-kubernetes-list-map-keys is non-empty"))
    if list_type == "map":
        if not keys:
            causes.append(required(path + ".x-kubernetes-list-map-keys",
                                   "must not be empty if x-kubernetes-list-type is map"))
        if items is None:
            causes.append(required(path + ".items",
                                   "must have a schema if x-kubernetes-list-type is map"))
        elif not isinstance(items, dict):
            causes.append(invalid(path + ".items", items,
                                  "must only have a single schema if x-kubernetes-list-type "
                                  "is map"))
        elif items.get("type") != "object":
            causes.append(invalid(path + ".items.type", items.get("type") or "",
                                  "must be object if parent array's x-kubernetes-list-type "
                                  "is map"))
        else:
            item_props = as_object(items.get("properties"))
            seen: set[Any] = set()
            for key in keys:
                prop = item_props.get(key) if isinstance(key, str) else None
                if isinstance(prop, dict):
                    if prop.get("type") in ("array", "object"):
                        causes.append(invalid(f"{path}.items.properties[{key}].type",
                                              items.get("type"),
                                              "must be a scalar type if parent array's "
                                              "x-kubernetes-list-type is map"))
                else:
                    causes.append(invalid(path + ".x-kubernetes-list-map-keys", keys,
                                          "entries must all be names of item properties"))
                if isinstance(key, str) and key in seen:
                    causes.append(invalid(path + ".x-kubernetes-list-map-keys", keys,
                                          "must not contain duplicate entries"))
                seen.add(key if isinstance(key, str) else repr(key))
    # validateMapListKeysMapSet: the identity of an item must always be present
    if list_type in ("set", "map") and isinstance(items, dict):
        if items.get("nullable") is True:
            causes.append(forbidden(path + ".items.nullable",
                                    f"cannot be nullable when x-kubernetes-list-type is "
                                    f"{list_type}"))
        if list_type == "map":
            item_props = as_object(items.get("properties"))
            needed = set(k for k in as_list(items.get("required")) if isinstance(k, str))
            for key in keys:
                prop = item_props.get(key) if isinstance(key, str) else None
                if not isinstance(prop, dict):
                    continue
                if key not in needed and prop.get("default") is None:
                    causes.append(required(f"{path}.items.properties[{key}].default",
                                           "this property is in x-kubernetes-list-map-keys, so "
                                           "it must have a default or be a required property"))
                if prop.get("nullable") is True:
                    causes.append(forbidden(f"{path}.items.properties[{key}].nullable",
                                            "this property is in x-kubernetes-list-map-keys, so "
                                            "it cannot be nullable"))
    return causes


_NEWLINES = re.compile(r"[\n\r]+")


def x_validation_causes(schema: Schema, path: str) -> list[Cause]:
    """The static checks of x-kubernetes-validations; the CEL itself is not compiled."""
    causes: list[Cause] = []
    for i, rule in enumerate(as_list(schema.get("x-kubernetes-validations"))):
        if not isinstance(rule, dict):
            continue
        at = f"{path}.x-kubernetes-validations[{i}]"
        text, message = as_str(rule.get("rule")), as_str(rule.get("message"))
        trimmed_rule, trimmed_message = text.strip(), message.strip()
        if not trimmed_rule:
            causes.append(required(at + ".rule", "rule is not specified"))
        elif message and not trimmed_message:
            causes.append(invalid(at + ".message", message,
                                  "message must be non-empty if specified"))
        elif _NEWLINES.search(trimmed_message):
            causes.append(invalid(at + ".message", message,
                                  "message must not contain line breaks"))
        elif _NEWLINES.search(trimmed_rule) and not trimmed_message:
            causes.append(required(at + ".message",
                                   "message must be specified if rule contains line breaks"))
        expression = as_str(rule.get("messageExpression"))
        if expression and not expression.strip():
            causes.append(required(at + ".messageExpression",
                                   "messageExpression must be non-empty if specified"))
        reason = rule.get("reason")
        if reason is not None and reason not in _VALIDATION_REASONS:
            causes.append(not_supported(at + ".reason", reason, _VALIDATION_REASONS))
        field_path = as_str(rule.get("fieldPath"))
        if field_path and not field_path.strip():
            causes.append(invalid(at + ".fieldPath", field_path,
                                  "fieldPath must be non-empty if specified"))
        if _NEWLINES.search(field_path):
            causes.append(invalid(at + ".fieldPath", field_path,
                                  "fieldPath must not contain line breaks"))
    return causes
