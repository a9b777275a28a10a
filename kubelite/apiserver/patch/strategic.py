"""Strategic merge patch (`application/strategic-merge-patch+json`), schema-driven.

This is the server half of k8s.io/apimachinery/pkg/util/strategicpatch/patch.go
(StrategicMergeMapPatch): JSON merge patch, except that lists whose schema says
`x-kubernetes-patch-strategy: merge` are merged, maps by their
`x-kubernetes-patch-merge-key` and primitives as sets; other lists are replaced.
The patch may carry directives, which never reach the result:

- `$patch: replace` / `$patch: delete` in a map replace or delete that map;
  in a list item, `delete` removes the item with that merge key and `replace`
  makes the patch's items the whole list;
- `$deleteFromPrimitiveList/<field>: [...]` removes values from a merged
  primitive list;
- `$setElementOrder/<field>: [...]` orders a merged list (as `kubectl apply` sends);
- `$retainKeys: [...]` clears the map's fields not listed (retainKeys strategy);
- `field: null` deletes the field.

Items keep upstream's order: the patch's items in patch order interleaved with
server-only items in their live order. Errors are what kube-apiserver answers
(handlers/patch.go interpretStrategicMergePatchError): malformed directive lists
are 400 BadRequest, lists of lists 422, and everything else (an item without its
merge key, an unknown `$patch`) is returned by upstream as a plain error, which the
API server reports as 500.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.api.schemas import Schema, items_schema
from kubelite.apiserver.patch.element_order import (
    MARKER as _MARKER,
    ORDER_PREFIX as _ORDER_PREFIX,
    check_order,
    deduplicate,
    go,
    no_merge_key,
    normalize_order,
    partition,
    same,
)
from kubelite.apiserver.patch.typed import field_schema
from kubelite.machinery.errors import BadRequest, Invalid, InternalError

_RETAIN_KEYS = "$retainKeys"
_DELETE_PREFIX = "$deleteFromPrimitiveList"


def apply_strategic_merge_patch(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
    """`original` with `patch` applied; neither argument is mutated. `schema` is the
    kind's root schema (None: every list is replaced, every map merged)."""
    if not isinstance(patch, dict):
        raise BadRequest("invalid JSON document")
    return _merge_map(copy.deepcopy(original), copy.deepcopy(patch), schema)


def _kind(v: Any) -> str:
    return "map" if isinstance(v, dict) else "list" if isinstance(v, list) else "scalar"


def _meta(schema: Schema | None, key: str) -> tuple[Schema | None, str, bool, str]:
    """(sub-schema, patch strategy, retainKeys?, merge key) of field `key`."""
    sub, _ = field_schema(schema, key)
    if sub is None:
        return None, "", False, ""
    strategies = [s for s in str(sub.get("x-kubernetes-patch-strategy", "")).split(",") if s]
    retain = "retainKeys" in strategies
    rest = [s for s in strategies if s != "retainKeys"]
    if len(rest) > 1 or len(strategies) > 2:
        raise InternalError(f"unexpected patch strategy: {go(strategies)}")
    return sub, rest[0] if rest else "", retain, str(sub.get("x-kubernetes-patch-merge-key", ""))


def _extract_key(key: str, prefix: str) -> str:
    head, sep, rest = key.partition("/")
    if not sep or head != prefix:
        if prefix == _DELETE_PREFIX:
            raise BadRequest("invalid patch format of primitive list")
        raise BadRequest("invalid patch format of setElementOrder list")
    return rest


def _remove_directives(v: Any) -> tuple[Any, bool]:
    """A patch value that lands where nothing was: directives (and nulls) dropped;
    False when the value itself is a directive and nothing should be kept."""
    if isinstance(v, dict):
        if _MARKER in v:
            return None, False
        out = {}
        for k, sub in v.items():
            if sub is None or k == _RETAIN_KEYS or k.startswith((_DELETE_PREFIX, _ORDER_PREFIX)):
                continue
            val, keep = _remove_directives(sub)
            if keep:
                out[k] = val
        return out, True
    if isinstance(v, list):
        return [val for val, keep in map(_remove_directives, v) if keep], True
    return v, True


def _merge_map(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> dict[str, Any]:
    if _MARKER in patch:
        directive = patch[_MARKER]
        if directive == "replace":
            replaced: dict[str, Any] = _remove_directives(
                {k: v for k, v in patch.items() if k != _MARKER})[0]
            return replaced
        if directive == "delete":
            return {}
        raise InternalError(f"unknown patch type: {go(directive)} in map: {go(patch)}")
    _apply_retain_keys(original, patch)
    _merge_ordered_lists(original, patch, schema)
    for key, value in patch.items():
        is_delete_list = key.startswith(_DELETE_PREFIX)
        if is_delete_list:
            key = _extract_key(key, _DELETE_PREFIX)
        if value is None:
            original.pop(key, None)
            continue
        if key not in original or _kind(original[key]) != _kind(value):
            if not is_delete_list:
                kept, keep = _remove_directives(value)
                if keep:
                    original[key] = kept
                else:
                    original.pop(key, None)
            continue
        current = original[key]
        if isinstance(current, dict):
            sub, strategy, _, _ = _meta(schema, key)
            merged = _merge_map(current, value, sub) if strategy != "replace" else _remove_directives(value)[0]
            original[key] = merged
        elif isinstance(current, list):
            sub, strategy, _, merge_key = _meta(schema, key)
            original[key] = _merge_list_field(current, value, sub, strategy, merge_key, is_delete_list)
        else:
            original[key] = value
    return original


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    if _RETAIN_KEYS not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS)
    if not isinstance(retain, list):
        raise BadRequest("invalid patch format of retainKeys")
    keep = {k for k in retain if isinstance(k, str)}
    for key, value in patch.items():
        if value is None or key.startswith((_DELETE_PREFIX, _ORDER_PREFIX)):
            continue
        if key not in keep:
            raise BadRequest("invalid patch format of retainKeys")
    for key in [k for k in original if k not in keep]:
        del original[key]


def _merge_list_field(
    current: list[Any], value: list[Any], schema: Schema | None, strategy: str, merge_key: str, is_delete_list: bool
) -> list[Any]:
    if strategy == "merge":
        return _merge_list(current, value, items_schema(schema) if schema else None, merge_key, is_delete_list)
    replaced: list[Any] = _remove_directives(value)[0]
    return replaced


def _element_kind(*lists: list[Any]) -> str | None:
    """The one kind of all items (sliceElementType); None when there are none."""
    kinds = {_kind(v) for lst in lists for v in lst} | ({"none"} if any(v is None for lst in lists for v in lst) else set())
    if not kinds:
        return None
    if "list" in kinds:
        # upstream answers 422 with a generic message, dropping "lists of lists are not supported"
        raise Invalid("the server rejected our request due to an error in our request")
    if len(kinds) > 1:
        raise InternalError(f"list element types are not identical: {go(list(lists))}")
    return kinds.pop()


def _merge_list(original: list[Any], patch: list[Any], item_schema: Schema | None, merge_key: str, is_delete_list: bool) -> list[Any]:
    if not original and not patch:
        return original
    kind = _element_kind(original, patch)
    if kind != "map":
        if is_delete_list:
            return [v for v in original if not any(same(v, d) for d in patch)]
        merged = deduplicate(original + patch)
    else:
        if not merge_key:
            raise InternalError("cannot merge lists without merge key")
        original, patch = _apply_item_directives(original, patch, merge_key)
        merged = list(original)  # `original` stays the live order for normalize_order
        for item in patch:
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            at = _find(merged, merge_key, item[merge_key])
            if at is None:
                merged.append(_remove_directives(item)[0])
            else:
                merged[at] = _merge_map(merged[at], item, item_schema)
    patch_items, server_only = partition(merged, patch, merge_key)
    return normalize_order(patch_items, server_only, patch, original, merge_key, kind == "map")


def _find(items: list[Any], merge_key: str, value: Any) -> int | None:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InternalError(f"value for key {i} is not a map.")
        if merge_key in item and same(item[merge_key], value):
            return i
    return None


def _apply_item_directives(original: list[Any], patch: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    """mergeSliceWithSpecialElements: `$patch` items act on the list."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if _MARKER not in item:
            plain.append(item)
            continue
        directive = item[_MARKER]
        if directive == "delete":
            if merge_key not in item:
                raise no_merge_key(item, merge_key)
            while (at := _find(original, merge_key, item[merge_key])) is not None:
                del original[at]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise InternalError("merging lists cannot yet be specified in the patch")
        else:
            raise InternalError(f"unknown patch type: {go(directive)} in map: {go(item)}")
    return (plain, []) if replace else (original, plain)


def _merge_ordered_lists(original: dict[str, Any], patch: dict[str, Any], schema: Schema | None) -> None:
    """mergePatchIntoOriginal: lists named by `$setElementOrder/<field>`."""
    for order_key in [k for k in patch if k.startswith(_ORDER_PREFIX)]:
        order = patch.pop(order_key)
        if not isinstance(order, list):
            raise InternalError(f"expected a []interface {{}}, but received a {_kind(order)}")
        key = _extract_key(order_key, _ORDER_PREFIX)
        current, value = original.get(key), patch.get(key)
        for v in (current, value):
            if v is not None and not isinstance(v, list):
                raise InternalError(f"expected a []interface {{}}, but received a {_kind(v)}")
        sub, strategy, _, merge_key = _meta(schema, key)
        check_order(value or [], order, merge_key)
        if current is not None and value is None:
            merged = current
        elif current is None and value is not None:
            merged = _remove_directives(value)[0]
        elif current is not None and value is not None:
            merged = _merge_list_field(current, value, sub, strategy, merge_key, False)
        else:
            continue
        kind = _element_kind(current or [], value or [])
        if kind is not None:
            inside, outside = partition(merged, order, merge_key)
            merged = normalize_order(inside, outside, order, current or [], merge_key, kind == "map")
        original[key] = merged
        patch.pop(key, None)
