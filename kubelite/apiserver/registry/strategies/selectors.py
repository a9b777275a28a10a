"""metav1.LabelSelector fields as the strategies read them, on `kubelite.machinery.labels`.

Matching and printing are the machinery's `Selector` (upstream's LabelSelectorAsSelector,
`Matches`, `String()`: requirements sorted by key, `k=v`, `k in (a,b)`, `k notin (a,b)`,
`k`, `!k`), so the scale subresource's status.selector reads exactly as upstream's.

A selector that does not convert (an unknown operator, `In` without values, a key that is
no qualified name, a value of the wrong type) is not judged here: the template-match check
passes and it prints as nothing, as upstream skips the match once the selector itself has
been found invalid.
"""

from __future__ import annotations

from typing import Any

from kubelite.machinery.errors import BadRequest
from kubelite.machinery.labels import Selector, selector_from_label_selector, selector_from_set

Obj = dict[str, Any]


def _strings(values: Any) -> bool:
    return all(isinstance(v, str) for v in values)


def _well_typed(selector: Obj) -> bool:
    # the machinery assumes strings; anything else cannot be a selector upstream either
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match_labels, dict) or not _strings(match_labels.values()):
        return False
    if not isinstance(expressions, list):
        return False
    return all(isinstance(e, dict) and isinstance(e.get("key", ""), str)
               and isinstance(e.get("values") or [], list) and _strings(e.get("values") or [])
               for e in expressions)


def label_selector(selector: Obj | None) -> Selector | None:
    """LabelSelectorAsSelector, or None for a selector that does not convert."""
    if selector is not None and not _well_typed(selector):
        return None
    try:
        return selector_from_label_selector(selector)
    except BadRequest:
        return None


def is_empty(selector: Obj | None) -> bool:
    """No matchLabels and no matchExpressions (upstream's len(...)+len(...) == 0 check)."""
    selector = selector or {}
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def selector_matches(selector: Obj | None, labels: dict[str, str] | None) -> bool:
    """Whether `selector` selects `labels`; True for a selector that does not convert."""
    converted = label_selector(selector)
    return converted is None or converted.matches(labels)


def selector_string(selector: Obj | None) -> str:
    """labels.Selector.String() of a metav1.LabelSelector ("" when it does not convert)."""
    converted = label_selector(selector)
    return "" if converted is None else str(converted)


def map_selector_string(selector: dict[str, str] | None) -> str:
    """labels.SelectorFromSet(...).String(), for ReplicationControllers."""
    return str(selector_from_set(selector))
