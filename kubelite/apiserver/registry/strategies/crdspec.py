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

from .causes import invalid, not_supported, required
from .jsonvalues import as_list, as_object, as_str
from .crdschema import validate_schema
from .crdversion import (
    column_causes,
    deprecation_warning_problems,
    selectable_causes,
    subresources_causes,
)
from .crdwebhook import conversion_causes

Obj = dict[str, Any]

_PER_VERSION = ("schema", "subresources", "additionalPrinterColumns", "selectableFields")


@dataclass(slots=True)
class Hoisted:
    """Which per-version fields upstream sees at the top level (None: not hoisted)."""
    schema: Obj | None = None
    subresources: Obj | None = None
    columns: list[Any] | None = None
    selectable: list[Any] | None = None
    kept: frozenset[str] = frozenset()  # what stays in the versions, differing between them


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
        kept=kept)


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
        subresources = version.get("subresources") if "subresources" in hoisted.kept \
            else hoisted.subresources
        causes.extend(_version_causes(version, i, hoisted.kept, _has_status(subresources)))
    if not unique:
        causes.append(invalid("spec.versions", versions, "must contain unique version names"))
    if storage_count != 1:
        causes.append(invalid("spec.versions", versions,
                              "must have exactly one version marked as storage version"))
    if versions:
        # v1 has no spec.version; conversion fills it with versions[0].name
        first = as_str(versions[0].get("name"))
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
    for j, column in enumerate(as_list(hoisted.columns)):
        causes.extend(column_causes(column, f"spec.additionalPrinterColumns[{j}]"))
    if hoisted.selectable:
        causes.extend(selectable_causes(hoisted.selectable,
                                        _open_api_schema(hoisted.schema), "spec.selectableFields"))

    conversion = spec.get("conversion") if isinstance(spec.get("conversion"), dict) else None
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
        for j, column in enumerate(as_list(version.get("additionalPrinterColumns"))):
            causes.extend(column_causes(column, f"{at}.additionalPrinterColumns[{j}]"))
    if "selectableFields" in kept and version.get("selectableFields"):
        causes.extend(selectable_causes(version["selectableFields"],
                                        _open_api_schema(version.get("schema")),
                                        at + ".selectableFields"))
    return causes


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
