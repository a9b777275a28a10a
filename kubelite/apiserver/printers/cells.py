"""Cell formatting shared by many printers: labels, selectors, containers, booleans.

Each function mirrors one upstream helper (named in its docstring) so a printer reads
like its Go original. All are pure and cheap; nothing here compiles a regex or copies
an object.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Obj = dict[str, Any]

NONE = "<none>"
UNSET = "<unset>"


def get(obj: Mapping[str, Any] | None, *path: str) -> Any:
    """obj[path[0]][path[1]]...; None where any step is missing or null."""
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def meta(obj: Obj) -> Obj:
    return obj.get("metadata") or {}


def name_of(obj: Obj) -> str:
    return meta(obj).get("name") or ""


def int_of(value: Any, default: int = 0) -> int:
    """An int32/int64 field; absent (Go's zero value) gives `default`."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return default


def go_bool(value: bool) -> str:
    """printBool."""
    return "True" if value else "False"


def bool_ptr(value: Any) -> str:
    """printBoolPtr: "True", "False", or "<unset>" for a nil pointer."""
    return UNSET if value is None else go_bool(bool(value))


def containers_cells(containers: Iterable[Obj] | None) -> tuple[str, str]:
    """layoutContainerCells: names and images, each comma-joined."""
    names: list[str] = []
    images: list[str] = []
    for container in containers or ():
        names.append(container.get("name") or "")
        images.append(container.get("image") or "")
    return ",".join(names), ",".join(images)


def template_containers(obj: Obj, *path: str) -> tuple[str, str]:
    return containers_cells(get(obj, *path, "spec", "containers"))


def format_labels(labels: Mapping[str, str] | None) -> str:
    """labels.FormatLabels: sorted "k=v" pairs, "<none>" when empty."""
    if not labels:
        return NONE
    return ",".join(f"{key}={labels[key]}" for key in sorted(labels))


class InvalidSelector(ValueError):
    """metav1.LabelSelectorAsSelector refused the selector."""


_OPERATORS = {"In": " in ", "NotIn": " notin ", "Exists": "", "DoesNotExist": ""}


def selector_string(selector: Mapping[str, Any] | None) -> str:
    """metav1.LabelSelectorAsSelector(selector).String().

    nil and empty selectors both print as "" (Nothing and Everything). Requirements
    are sorted by key, as labels.internalSelector.Add does; set values are sorted.
    """
    if not selector:
        return ""
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or ()
    requirements: list[tuple[str, str]] = [(key, f"{key}={value}") for key, value in match_labels.items()]
    for expr in expressions:
        key = expr.get("key") or ""
        operator = expr.get("operator")
        values = list(expr.get("values") or ())
        if operator not in _OPERATORS:
            raise InvalidSelector(f"{operator!r} is not a valid label selector operator")
        if operator in ("In", "NotIn"):
            if not values:
                raise InvalidSelector("for 'in', 'notin' operators, values set can't be empty")
            rendered = values[0] if len(values) == 1 else ",".join(sorted(values))
            requirements.append((key, f"{key}{_OPERATORS[operator]}({rendered})"))
        else:
            if values:
                raise InvalidSelector("values set must be empty for exists and does not exist")
            requirements.append((key, key if operator == "Exists" else "!" + key))
    requirements.sort(key=lambda item: item[0])
    return ",".join(text for _, text in requirements)


def format_label_selector(selector: Mapping[str, Any] | None) -> str:
    """metav1.FormatLabelSelector: like selector_string, but "<none>" when empty."""
    try:
        text = selector_string(selector)
    except InvalidSelector:
        return "<error>"
    return text or NONE


def list_with_more(items: list[str], more: bool, count: int, limit: int) -> str:
    """listWithMoreString: "a,b,c + 2 more...", "<unset>" when empty."""
    text = ",".join(items)
    if more:
        return f"{text} + {count - limit} more..."
    return text or UNSET


def quantity(value: Any) -> str:
    """resource.Quantity.String() of a stored quantity; an absent one is "0".

    Stored quantities are already in canonical form (the API server canonicalizes on
    write, as upstream's decode-encode round trip does), so the string is used as is.
    """
    if value is None or value == "":
        return "0"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def int_or_string(value: Any) -> str:
    """intstr.IntOrString.String()."""
    return str(value) if not isinstance(value, str) else value


def group_kind_name(api_version: str, kind: str, name: str) -> str:
    """formatResourceName(gvk.GroupKind(), name, withKind=true): "statefulset.apps/web"."""
    group = api_version.rpartition("/")[0] if "/" in api_version else ""
    group_kind = f"{kind}.{group}" if group else kind
    if not group_kind:
        return name
    return f"{group_kind.lower()}/{name}"


def ports_host(ip: str, port: int | str) -> str:
    """net.JoinHostPort: IPv6 addresses in brackets."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"
