"""Item order and helpers shared by strategic merge patch (strategic.py).

Upstream's rule (strategicpatch/patch.go normalizeElementOrder, mergeSortedSlice,
preserve-order-in-strategic-merge-patch design): the patch's items keep the patch's
order (or `$setElementOrder`'s), server-only items keep their live order, and the
two are interleaved by walking both, taking a server-only item first only when
both sit in the live list and it comes earlier there. An item new to the list has
no live place, so it is taken as soon as it is reached. Values compare as Go
compares decoded JSON: by type and value.
"""

from __future__ import annotations

from typing import Any

from kubelite.machinery.errors import InternalError

MARKER = "$patch"
ORDER_PREFIX = "$setElementOrder"


def go(v: Any) -> str:
    """Go's %v of a decoded JSON value, for error messages that match upstream's."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dict):
        return "map[" + " ".join(f"{k}:{go(v[k])}" for k in sorted(v)) + "]"
    if isinstance(v, list):
        return "[" + " ".join(go(x) for x in v) + "]"
    return str(v)


def no_merge_key(m: Any, key: str) -> InternalError:
    return InternalError(f"map: {go(m)} does not contain declared merge key: {key}")


def same(a: Any, b: Any) -> bool:
    # Go compares decoded JSON scalars by type and value: 1 and 1.0 or true differ.
    return type(a) is type(b) and a == b


def deduplicate(items: list[Any]) -> list[Any]:
    # Go's deduplicateScalars: a duplicate is replaced by the last item; order is
    # restored afterwards by normalize_order.
    s = list(items)
    last = len(s) - 1
    i = 0
    while i < last:
        j = i + 1
        while j <= last:
            if same(s[i], s[j]):
                s[j] = s[last]
                s.pop()
                last -= 1
                j -= 1
            j += 1
        i += 1
    return s


def key_of(item: Any, merge_key: str) -> Any:
    return item.get(merge_key) if merge_key and isinstance(item, dict) else item


def index(items: list[Any], item: Any, merge_key: str) -> int:
    wanted = key_of(item, merge_key)
    for i, v in enumerate(items):
        if same(key_of(v, merge_key), wanted):
            return i
    return -1


def partition(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """Items of `merged` present in `by` (by merge key or value), and the others."""
    inside: list[Any] = []
    outside: list[Any] = []
    for item in merged:
        if merge_key and (not isinstance(item, dict) or merge_key not in item):
            raise no_merge_key(item, merge_key)
        (inside if index(by, item, merge_key) >= 0 else outside).append(item)
    return inside, outside


def sort_by(items: list[Any], order: list[Any], merge_key: str, maps: bool) -> list[Any]:
    deleted: list[Any] = []
    if maps:
        for v in (*items, *order):
            if not isinstance(v, dict) or merge_key not in v:
                raise no_merge_key(v, merge_key)
        deleted = [v for v in items if v.get(MARKER) == "delete"]
        items = [v for v in items if v.get(MARKER) != "delete"]
    ranked = sorted(items, key=lambda v: (i if (i := index(order, v, merge_key)) >= 0 else len(order)))
    return ranked + deleted


def normalize_order(
    patch_items: list[Any], server_only: list[Any], patch_order: list[Any], server_order: list[Any], merge_key: str, maps: bool
) -> list[Any]:
    """normalizeElementOrder + mergeSortedSlice: patch items in patch order,
    server-only items in live order, interleaved by their places in the live list."""
    right = sort_by(patch_items, patch_order, merge_key, maps)
    left = sort_by(server_only, server_order, merge_key, maps)
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right):
            out.append(left[i])
            i += 1
            continue
        if i < len(left):
            li, ri = index(server_order, left[i], merge_key), index(server_order, right[j], merge_key)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
                continue
        out.append(right[j])
        j += 1
    return out


def check_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """validatePatchWithSetOrderList: patch items must follow the order list."""
    if not order or not patch_list:
        return
    items = [v for v in patch_list if not (merge_key and isinstance(v, dict) and v.get(MARKER) == "delete")]
    pi = oi = 0
    while pi < len(items) and oi < len(order):
        if isinstance(items[pi], dict) and MARKER in items[pi]:
            pi += 1
            continue
        if merge_key:
            for v in (items[pi], order[oi]):
                if not isinstance(v, dict) or merge_key not in v:
                    raise no_merge_key(v, merge_key)
        if same(key_of(items[pi], merge_key), key_of(order[oi], merge_key)):
            pi += 1
        oi += 1
    if pi < len(items):
        raise InternalError(
            f"the order in patch list:\n{go(patch_list)}\n doesn't match {ORDER_PREFIX} list:\n{go(order)}"
        )
