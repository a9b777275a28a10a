"""Status conditions, set the way apimachinery's meta.SetStatusCondition and
apiextensions' SetCRDCondition set them."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def set_condition(conditions: list[Obj], new: Obj) -> list[Obj]:
    """`conditions` with `new` in place of the condition of its type (appended if there
    is none). A condition whose status, reason and message are unchanged is kept as it
    is; otherwise it takes `new`'s fields but keeps its lastTransitionTime unless the
    status changed, so an unchanged pass compares equal and writes nothing."""
    out = []
    found = False
    for old in conditions:
        if old.get("type") != new["type"]:
            out.append(old)
            continue
        found = True
        if all(old.get(k) == new.get(k) for k in ("status", "reason", "message")):
            out.append(old)
            continue
        merged = {**old, **new}
        if old.get("status") == new.get("status") and "lastTransitionTime" in old:
            merged["lastTransitionTime"] = old["lastTransitionTime"]
        out.append(merged)
    if not found:
        out.append(new)
    return out
