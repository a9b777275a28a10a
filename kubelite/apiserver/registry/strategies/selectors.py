"""metav1.LabelSelector as data: does it match a label set, and its string form.

The string form is what labels.Selector.String() prints (requirements sorted by key,
`k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`), which the scale subresource puts in
status.selector.
"""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def selector_matches(selector: Obj | None, labels: dict[str, str] | None) -> bool:
    labels = labels or {}
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or ():
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In" and (key not in labels or labels[key] not in values):
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def is_empty(selector: Obj | None) -> bool:
    selector = selector or {}
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def selector_string(selector: Obj | None) -> str:
    selector = selector or {}
    parts: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        parts.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or ():
        key, op = expr.get("key", ""), expr.get("operator")
        values = ",".join(sorted(expr.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(op or "", key)
        parts.append((key, text))
    return ",".join(text for _, text in sorted(parts, key=lambda p: p[0]))


def map_selector_string(selector: dict[str, str] | None) -> str:
    """labels.SelectorFromSet(...).String(), for ReplicationControllers."""
    return ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))
