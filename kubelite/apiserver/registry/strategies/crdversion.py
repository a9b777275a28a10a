"""What a CRD version carries besides its schema, checked as apiextensions'
validation.go checks it: the deprecation warning, the scale subresource's paths,
additionalPrinterColumns (ValidateCustomResourceColumnDefinition) and selectableFields
(ValidateCustomResourceSelectableFields). Callers pass the field path the value has in
the internal CRD (top level when hoisted, per version otherwise; see `crdspec`).
"""

from __future__ import annotations

import re
from typing import Any

from kubelite.machinery.errors import Cause

from .causes import duplicate, invalid, required
from .jsonvalues import as_object, as_str

Obj = dict[str, Any]

PRINTER_COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")
PRINTER_COLUMN_FORMATS = ("byte", "date", "date-time", "double", "float", "int32", "int64",
                          "password")
MAX_SELECTABLE_FIELDS = 8


def deprecation_warning_problems(version: Obj) -> list[str]:
    warning = version.get("deprecationWarning")
    if version.get("deprecated") is not True and warning is not None:
        return ["can only be set for deprecated versions"]
    if not isinstance(warning, str):
        return []
    problems = []
    if len(warning.encode()) > 256:
        problems.append("must be <= 256 characters long")
    if not warning:
        problems.append("must not be an empty string")
    offset = 0
    for ch in warning:
        if not ch.isprintable():  # Go's unicode.IsPrint; control characters fail it too
            problems.append("must only contain printable UTF-8 characters; non-printable "
                            f"character found at index {offset}")
            break
        offset += len(ch.encode())  # Go reports the byte index
    return problems


def column_causes(column: Any, at: str) -> list[Cause]:
    """ValidateCustomResourceColumnDefinition (v1's jsonPath is upstream's JSONPath)."""
    column = as_object(column)
    causes: list[Cause] = []
    if not column.get("name"):
        causes.append(required(at + ".name"))
    kind, one_of = column.get("type"), "must be one of " + ",".join(PRINTER_COLUMN_TYPES)
    if not kind:
        causes.append(required(at + ".type", one_of))
    elif kind not in PRINTER_COLUMN_TYPES:
        causes.append(invalid(at + ".type", kind, one_of))
    fmt = column.get("format")
    if fmt and fmt not in PRINTER_COLUMN_FORMATS:
        causes.append(invalid(at + ".format", fmt,
                              "must be one of " + ",".join(PRINTER_COLUMN_FORMATS)))
    path = column.get("jsonPath")
    if not path:
        causes.append(required(at + ".JSONPath"))
    else:
        causes.extend(simple_json_path_causes(path, at + ".JSONPath"))
    return causes


def simple_json_path_causes(path: Any, at: str) -> list[Cause]:
    if not isinstance(path, str) or not path:
        return [invalid(at, path, "must not be empty")]
    if not path.startswith("."):
        return [invalid(at, path, "must be a simple json path starting with .")]
    return []


def subresources_causes(subresources: Any, at: str) -> list[Cause]:
    if not isinstance(subresources, dict) or not isinstance(subresources.get("scale"), dict):
        return []
    scale = subresources["scale"]
    causes: list[Cause] = []
    for key, prefixes, where in (("specReplicasPath", (".spec.",), ".spec"),
                                 ("statusReplicasPath", (".status.",), ".status")):
        value, field = scale.get(key), f"{at}.scale.{key}"
        if not value:
            causes.append(required(field))
        elif errs := simple_json_path_causes(value, field):
            causes.extend(errs)
        elif not value.startswith(prefixes):
            causes.append(invalid(field, value, f"should be a json path under {where}"))
    selector, field = scale.get("labelSelectorPath"), at + ".scale.labelSelectorPath"
    if selector:
        if errs := simple_json_path_causes(selector, field):
            causes.extend(errs)
        elif not selector.startswith((".spec.", ".status.")):
            causes.append(invalid(field, selector,
                                  "should be a json path under either .spec or .status"))
    return causes


def selectable_causes(fields: Any, schema: Obj | None, at: str) -> list[Cause]:
    """ValidateCustomResourceSelectableFields."""
    if schema is None:
        return [invalid(at, "", "selectableFields may only be set when "
                                "version.schema.openAPIV3Schema is not included")]
    causes: list[Cause] = []
    unique: set[str] = set()
    for i, entry in enumerate(fields if isinstance(fields, list) else ()):
        field = f"{at}[{i}].jsonPath"
        path = as_str(as_object(entry).get("jsonPath"))
        if not path:
            causes.append(required(field))
            continue
        found, problem = _walk_field_path(path, schema)
        if problem:
            causes.append(invalid(field, path, f"is an invalid path: {problem}"))
            continue
        if path.split(".")[1] == "metadata":
            causes.append(invalid(field, path, "must not point to fields in metadata"))
        if not isinstance(found, dict) or found.get("type") not in ("string", "boolean",
                                                                      "integer"):
            causes.append(invalid(field, path, "must point to a field of type string, boolean "
                                  "or integer. Enum string fields and strings with formats are "
                                  "allowed."))
        if path in unique:
            causes.append(duplicate(field, path))
        unique.add(path)
    if len(unique) > MAX_SELECTABLE_FIELDS:
        causes.append(Cause("FieldValueTooMany", f"Too many: {len(unique)}: must have at most "
                            f"{MAX_SELECTABLE_FIELDS} items", at))
    return causes


_DELIMITERS = re.compile(r"[.\[\]]")


def _walk_field_path(path: str, schema: Obj) -> tuple[Obj | None, str]:
    """cel.ValidFieldPath without array notation: `.a.b` through properties."""
    if "[" in path:
        return None, "array notation is not allowed"
    if not path.startswith("."):
        return None, "expected [ or . but got: " + _DELIMITERS.split(path)[0]
    node: Any = schema
    for name in path[1:].split("."):
        props = node.get("properties") if isinstance(node, dict) else None
        if not name or not isinstance(props, dict) or not isinstance(props.get(name), dict):
            return None, "does not refer to a valid field"
        node = props[name]
    return node, ""
