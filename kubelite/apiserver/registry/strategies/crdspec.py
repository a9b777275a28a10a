"""A CustomResourceDefinition's spec, checked as apiextensions' validation.go checks it
(validateCustomResourceDefinitionSpec and the helpers it calls), with upstream's field
paths and messages.

Upstream validates the *internal* CRD, into which v1 converts by hoisting: when every
version carries the same schema (or subresources, printer columns, selectable fields),
that value moves to the top level and its errors read `spec.validation.openAPIV3Schema...`,
`spec.subresources.scale...`, `spec.additionalPrinterColumns[0]...`; only values that
differ between versions stay at `spec.versions[i]...`. The conversion webhook, nested
under `webhook` in v1, reports as `spec.conversion.webhookClientConfig...` and
`spec.conversion.conversionReviewVersions`. `hoist` reproduces that view so the 422s
name the same fields kube-apiserver names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubelite.machinery.errors import Cause
from kubelite.machinery.validation import is_dns1035_label, is_dns1123_subdomain

from .causes import duplicate, invalid, not_supported, required
from .jsonvalues import as_list, as_object, as_str
from .crdschema import validate_schema
from .crdwebhook import conversion_causes

Obj = dict[str, Any]

PRINTER_COLUMN_TYPES = ("boolean", "date", "integer", "number", "string")
PRINTER_COLUMN_FORMATS = ("byte", "date", "date-time", "double", "float", "int32", "int64",
                          "password")
MAX_SELECTABLE_FIELDS = 8
_PER_VERSION = ("schema", "subresources", "additionalPrinterColumns", "selectableFields")


@dataclass(slots=True)
class Hoisted:
    """Which per-version fields upstream sees at the top level (None: not hoisted)."""
    schema: Obj | None = None
    subresources: Obj | None = None
    columns: list[Any] | None = None
    selectable: list[Any] | None = None
    per_version: tuple[frozenset[str], ...] = ()  # what stays in each version


def _same(a: Any, b: Any) -> bool:
    # apiequality.Semantic.DeepEqual: a nil and an empty slice are the same
    return (a in (None, []) and b in (None, [])) or a == b


def hoist(versions: list[Obj]) -> Hoisted:
    if not versions:
        return Hoisted()
    first = versions[0]
    same = {key: all(_same(v.get(key), first.get(key)) for v in versions)
            for key in _PER_VERSION}
    same["selectableFields"] = same["selectableFields"] and same["schema"]
    kept = frozenset(key for key in _PER_VERSION if not same[key])
    return Hoisted(
        schema=first.get("schema") if same["schema"] else None,
        subresources=first.get("subresources") if same["subresources"] else None,
        columns=first.get("additionalPrinterColumns") if same["additionalPrinterColumns"]
        else None,
        selectable=first.get("selectableFields") if same["selectableFields"] else None,
        per_version=tuple(kept for _ in versions))


def _has_status(subresources: Any) -> bool:
    return isinstance(subresources, dict) and subresources.get("status") is not None


def _schema_has(schema: Any, pred: Any) -> bool:
    """SchemaHas: does any node of the schema satisfy `pred`?"""
    if not isinstance(schema, dict):
        return False
    if pred(schema):
        return True
    children: list[Any] = [schema.get("items"), schema.get("not"),
                           schema.get("additionalProperties"), schema.get("additionalItems")]
    if isinstance(schema.get("items"), list):
        children.extend(schema["items"])
    for key in ("allOf", "anyOf", "oneOf"):
        children.extend(as_list(schema.get(key)))
    for key in ("properties", "patternProperties", "definitions", "dependencies"):
        children.extend(as_object(schema.get(key)).values())
    return any(_schema_has(child, pred) for child in children)


def spec_has_defaults(spec: Obj) -> bool:
    return any(_schema_has(_open_api_schema(v.get("schema")), lambda s: s.get("default")
                           is not None) for v in _versions(spec))


def spec_causes(spec: Obj) -> list[Cause]:
    """validateCustomResourceDefinitionSpec for a v1 CRD, with the options of a create."""
    causes: list[Cause] = []
    group = spec.get("group")
    if not group or not isinstance(group, str):
        causes.append(required("spec.group") if not group else
                      invalid("spec.group", group, "must be a string"))
    elif errs := is_dns1123_subdomain(group):
        causes.append(invalid("spec.group", group, ",".join(errs)))
    elif len(group.split(".")) < 2:
        causes.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    scope = spec.get("scope")
    if not scope:
        causes.append(required("spec.scope"))
    elif scope not in ("Cluster", "Namespaced"):
        causes.append(not_supported("spec.scope", scope, ("Cluster", "Namespaced")))

    versions = _versions(spec)
    hoisted = hoist(versions)
    preserve_unknown = spec.get("preserveUnknownFields") is True
    if hoisted.schema is None or _open_api_schema(hoisted.schema) is None:
        for i, version in enumerate(versions):
            if _open_api_schema(version.get("schema")) is None:
                causes.append(required(f"spec.versions[{i}].schema.openAPIV3Schema",
                                       "schemas are required"))
    if spec_has_defaults(spec) and preserve_unknown:
        causes.append(invalid("spec.preserveUnknownFields", True,
                              "must be false in order to use defaults in the schema"))

    storage_count, seen, unique = 0, set(), True
    for i, version in enumerate(versions):
        name = as_str(version.get("name"))
        storage_count += version.get("storage") is True
        unique = unique and name not in seen
        seen.add(name)
        if errs := is_dns1035_label(name):
            causes.append(invalid(f"spec.versions[{i}].name", name, ",".join(errs)))
        kept = hoisted.per_version[i]
        subresources = version.get("subresources") if "subresources" in kept \
            else hoisted.subresources
        causes.extend(_version_causes(version, i, kept, _has_status(subresources)))
    if not unique:
        causes.append(invalid("spec.versions", versions, "must contain unique version names"))
    if storage_count != 1:
        causes.append(invalid("spec.versions", versions,
                              "must have exactly one version marked as storage version"))
    if versions:
        # v1 has no spec.version; conversion fills it with versions[0].name
        first = versions[0].get("name") if isinstance(versions[0].get("name"), str) else ""
        if first and (errs := is_dns1035_label(first)):
            causes.append(invalid("spec.version", first, ",".join(errs)))

    names = as_object(spec.get("names"))
    for key in ("plural", "singular", "kind", "listKind"):
        if not names.get(key):
            causes.append(required(f"spec.names.{key}"))
    causes.extend(names_causes(names, "spec.names"))

    any_status = _has_status(hoisted.subresources) or any(
        _has_status(v.get("subresources")) for v in versions)
    if hoisted.schema is not None:
        causes.extend(validate_schema(_open_api_schema(hoisted.schema),
                                      "spec.validation.openAPIV3Schema",
                                      status_enabled=any_status))
    causes.extend(subresources_causes(hoisted.subresources, "spec.subresources"))
    for j, column in enumerate(hoisted.columns or ()):
        causes.extend(column_causes(column, f"spec.additionalPrinterColumns[{j}]"))
    if hoisted.selectable:
        causes.extend(selectable_causes(hoisted.selectable,
                                        _open_api_schema(hoisted.schema), "spec.selectableFields"))

    conversion = (as_object(spec.get("conversion")) or None)
    if conversion is not None and conversion.get("strategy") != "None" and preserve_unknown:
        causes.append(invalid("spec.conversion.strategy", conversion.get("strategy") or "",
                              "must be None if spec.preserveUnknownFields is true"))
    causes.extend(conversion_causes(conversion))
    return causes


def _versions(spec: Obj) -> list[Obj]:
    versions = spec.get("versions")
    if not isinstance(versions, list):
        return []
    return [v if isinstance(v, dict) else {} for v in versions]


def _open_api_schema(container: Any) -> Obj | None:
    if not isinstance(container, dict):
        return None
    schema = container.get("openAPIV3Schema")
    return schema if isinstance(schema, dict) else None


def _version_causes(version: Obj, i: int, kept: frozenset[str], status: bool) -> list[Cause]:
    at = f"spec.versions[{i}]"
    causes = [invalid(at + ".deprecationWarning", version.get("deprecationWarning"), problem)
              for problem in deprecation_warning_problems(version)]
    if "schema" in kept:
        schema = _open_api_schema(version.get("schema"))
        if schema is not None:
            causes.extend(validate_schema(schema, at + ".schema.openAPIV3Schema",
                                          status_enabled=status))
    if "subresources" in kept:
        causes.extend(subresources_causes(version.get("subresources"), at + ".subresources"))
    if "additionalPrinterColumns" in kept:
        for j, column in enumerate(version.get("additionalPrinterColumns") or ()):
            causes.extend(column_causes(column, f"{at}.additionalPrinterColumns[{j}]"))
    if "selectableFields" in kept and version.get("selectableFields"):
        causes.extend(selectable_causes(version["selectableFields"],
                                        _open_api_schema(version.get("schema")),
                                        at + ".selectableFields"))
    return causes


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


def names_causes(names: Obj, at: str) -> list[Cause]:
    """ValidateCustomResourceDefinitionNames (spec.names and status.acceptedNames)."""
    causes: list[Cause] = []
    for key in ("plural", "singular"):
        value = names.get(key)
        if isinstance(value, str) and value and (errs := is_dns1035_label(value)):
            causes.append(invalid(f"{at}.{key}", value, ",".join(errs)))
    for key in ("kind", "listKind"):
        value = names.get(key)
        if isinstance(value, str) and value and (errs := is_dns1035_label(value.lower())):
            causes.append(invalid(f"{at}.{key}", value, "may have mixed case, but should "
                                  "otherwise match: " + ",".join(errs)))
    for i, short in enumerate(_strings(names.get("shortNames"))):
        if errs := is_dns1035_label(short):
            causes.append(invalid(f"{at}.shortNames[{i}]", short, ",".join(errs)))
    kind = names.get("kind")
    if kind and kind == names.get("listKind"):
        causes.append(invalid(f"{at}.listKind", kind, "kind and listKind may not be the same"))
    for i, category in enumerate(_strings(names.get("categories"))):
        if errs := is_dns1035_label(category):
            causes.append(invalid(f"{at}.categories[{i}]", category, ",".join(errs)))
    return causes


def _strings(value: Any) -> list[str]:
    return [v if isinstance(v, str) else "" for v in value] if isinstance(value, list) else []


def column_causes(column: Any, at: str) -> list[Cause]:
    """ValidateCustomResourceColumnDefinition (v1's jsonPath is upstream's JSONPath)."""
    column = column if isinstance(column, dict) else {}
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
        path = entry.get("jsonPath") if isinstance(entry, dict) else None
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


def _walk_field_path(path: str, schema: Obj) -> tuple[Obj | None, str]:
    """cel.ValidFieldPath without array notation: `.a.b` through properties."""
    if not path.startswith(".") or "[" in path:
        return None, f"expected [ or . but got: {path[:1] or 'EOF'}" \
            if not path.startswith(".") else "array notation is not allowed"
    node: Any = schema
    for name in path[1:].split("."):
        props = node.get("properties") if isinstance(node, dict) else None
        if not name or not isinstance(props, dict) or not isinstance(props.get(name), dict):
            return None, "does not refer to a valid field"
        node = props[name]
    return node, ""

