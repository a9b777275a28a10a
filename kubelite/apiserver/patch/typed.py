"""Schema-aware walks over JSON objects for server-side apply.

These are the operations structured-merge-diff's `typed` package performs on a
typed value, done here directly on dicts with the pinned (or a CRD's) schema:

- `fields_of`: the set of fields an object sets (tofieldset.go);
- `compare`: which fields were added, modified or removed between two objects
  (Compare with its post-item hook, so newly added maps and list items count as
  added nodes too, which is where the "." entries of Update managers come from);
- `merge`: an applied configuration merged over a live object (merge.go);
- `remove_items`: an object with the given paths cut out (remove.go);
- `ensure_named_fields_are_members`: struct fields below owned paths made owned
  themselves, which pruning needs so struct fields are removed as a whole.

How a node merges comes from its schema: `x-kubernetes-map-type: atomic` and
`x-kubernetes-list-type: atomic` (the default for lists) are single leaves; `set`
lists are keyed by value, `map` lists by their `x-kubernetes-list-map-keys`; objects
are granular. Without a schema (None) maps are granular and lists atomic, which is
upstream's "deduced" type. Missing list-map keys fall back to the schema default
(and "TCP" for `protocol`, the one defaulted key in the built-in types, whose
default the pinned schemas do not carry).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubelite.api.schemas import Schema, resolve
from kubelite.apiserver.patch.fieldpath import FieldSet, Path, PathElement, path_string

_MISSING: Any = object()
_DEFAULT_KEYS = {"protocol": "TCP"}


class FieldPathError(ValueError):
    """An object that cannot be turned into field paths (a list-map item missing a key)."""


class _SchemaNode:
    """What the walks ask of one schema, worked out on first use: a pod's create or
    binding asks the same few hundred questions of the same schemas, and following
    `$ref`s and reading extensions anew each time was most of its cost."""

    __slots__ = ("schema", "resolved", "fields", "extra", "list_kind", "list_keys",
                 "atomic_map", "items")

    def __init__(self, schema: Schema) -> None:
        self.schema = schema  # held so that its id is not reused while cached
        resolved = self.resolved = resolve(schema)
        self.fields: dict[str, Schema] = {}
        extra = resolved.get("additionalProperties")
        self.extra = resolve(extra) if isinstance(extra, dict) else None
        self.atomic_map = resolved.get("x-kubernetes-map-type") == "atomic"
        self.list_kind, self.list_keys = _list_type(resolved)
        items = resolved.get("items")
        self.items = resolve(items) if isinstance(items, dict) else None

    def field(self, key: str) -> tuple[Schema | None, bool]:
        sub = self.fields.get(key)
        if sub is not None:
            return sub, True
        props = self.resolved.get("properties")
        if isinstance(props, dict) and key in props:
            # Only declared fields are kept: map keys (labels...) are the user's and
            # unbounded, and their schema is `extra` anyway.
            sub = self.fields[key] = resolve(props[key])
            return sub, True
        return self.extra, False


_NODES: dict[int, _SchemaNode] = {}
_MAX_NODES = 50_000  # schemas of replaced CRD versions must not pile up for ever


def _node(schema: Schema) -> _SchemaNode:
    node = _NODES.get(id(schema))
    if node is None or node.schema is not schema:
        if len(_NODES) >= _MAX_NODES:
            _NODES.clear()
        node = _NODES[id(schema)] = _SchemaNode(schema)
    return node


def field_schema(schema: Schema | None, key: str) -> tuple[Schema | None, bool]:
    """The schema of map entry `key` and whether it is a declared struct field."""
    if schema is None:
        return None, False
    return _node(schema).field(key)


def _list_type(schema: Schema) -> tuple[str, list[str]]:
    kind = schema.get("x-kubernetes-list-type")
    if kind in ("atomic", "set"):
        return kind, []
    if kind == "map":
        return "map", list(schema.get("x-kubernetes-list-map-keys") or [])
    if "merge" in str(schema.get("x-kubernetes-patch-strategy", "")).split(","):
        key = schema.get("x-kubernetes-patch-merge-key")
        return ("map", [key]) if key else ("set", [])
    return "atomic", []


def list_type(schema: Schema | None) -> tuple[str, list[str]]:
    """("atomic" | "set" | "map", map keys). Lists typed only by a strategic merge
    patch strategy are read the way kube-openapi's schema converter reads them."""
    if schema is None:
        return "atomic", []
    node = _node(schema)
    return node.list_kind, list(node.list_keys)


_LIST_SHAPES = {"atomic": "leaf", "set": "set", "map": "listmap"}


def shape(schema: Schema | None, value: Any) -> str:
    """How `value` merges: "leaf", "map", "set" or "listmap"."""
    if isinstance(value, dict):
        if schema is not None and _node(schema).atomic_map:
            return "leaf"
        return "map"
    if isinstance(value, list):
        return _LIST_SHAPES[_node(schema).list_kind] if schema is not None else "leaf"
    return "leaf"


def item_element(schema: Schema | None, item: Any, index: int, *, strict: bool = False) -> PathElement:
    """The path element of one item of a set or list-map."""
    node = _node(schema) if schema is not None else None
    kind, keys = (node.list_kind, node.list_keys) if node is not None else ("atomic", [])
    if kind == "set":
        return PathElement.of_value(item)
    if kind == "map" and isinstance(item, dict):
        item_schema = node.items if node is not None else None
        found: dict[str, Any] = {}
        for key in keys:
            if key in item and item[key] is not None:
                found[key] = item[key]
                continue
            prop, _ = field_schema(item_schema, key)
            if prop is not None and "default" in prop:
                found[key] = prop["default"]
            elif key in _DEFAULT_KEYS:
                found[key] = _DEFAULT_KEYS[key]
            elif strict:
                raise FieldPathError(
                    f"element {index}: associative list with keys has an element that omits "
                    f'key field "{key}" (and doesn\'t have default value)'
                )
        return PathElement.key(found)
    if strict and kind == "map":
        raise FieldPathError(f"element {index}: expected a map in an associative list")
    return PathElement.index(index)


def _items(schema: Schema | None, value: list[Any], strict: bool) -> dict[PathElement, Any]:
    """Items by path element, in order; later duplicates are ignored, as upstream."""
    out: dict[PathElement, Any] = {}
    for i, item in enumerate(value):
        out.setdefault(item_element(schema, item, i, strict=strict), item)
    return out


def _item_schema(schema: Schema | None) -> Schema | None:
    return _node(schema).items if schema is not None else None


def fields_of(obj: Any, schema: Schema | None, *, strict: bool = False) -> FieldSet:
    """The leaf fields `obj` sets, plus list items and undeclared map entries as
    nodes of their own (`strict` raises FieldPathError on unkeyable items)."""
    out = FieldSet()
    _collect(obj, schema, (), out, strict)
    return out


def _collect(value: Any, schema: Schema | None, path: Path, out: FieldSet, strict: bool) -> None:
    kind = shape(schema, value)
    if kind == "leaf":
        out.insert(path)
    elif kind == "map":
        for key, sub in value.items():
            sub_schema, declared = field_schema(schema, key)
            child = path + (PathElement.field(key),)
            _collect(sub, sub_schema, child, out, strict)
            if sub is None or sub == {} or not declared:
                out.insert(child)
    else:
        item_schema = _item_schema(schema)
        try:
            items = _items(schema, value, strict)
        except FieldPathError as e:
            raise FieldPathError(f"{path_string(path)}: {e}") from None
        for pe, item in items.items():
            _collect(item, item_schema, path + (pe,), out, strict)
            out.insert(path + (pe,))


@dataclass(slots=True)
class Comparison:
    added: FieldSet = field(default_factory=FieldSet)
    modified: FieldSet = field(default_factory=FieldSet)
    removed: FieldSet = field(default_factory=FieldSet)


def compare(lhs: Any, rhs: Any, schema: Schema | None) -> Comparison:
    """What changed from `lhs` to `rhs` (either may be None for "no object")."""
    out = Comparison()
    _compare(lhs if lhs is not None else _MISSING, rhs if rhs is not None else _MISSING, schema, (), out)
    return out


def _is_emptyish(v: Any) -> bool:
    return v is _MISSING or v is None or v == {} or v == []


_SCALARS = frozenset({str, int, float, bool})


def _identical(lhs: Any, rhs: Any) -> bool:
    """Whether two subtrees are the same JSON, byte for byte: then nothing below
    them changed. Python's == alone would take true for 1 and 1.0 for 1, which
    the walk tells apart in set items and list-map keys; the encoded bytes do not."""
    if type(lhs) is not type(rhs) or lhs != rhs:
        return False
    try:
        return orjson.dumps(lhs) == orjson.dumps(rhs)
    except (orjson.JSONEncodeError, TypeError):
        return False  # not plain JSON: let the walk decide


def _compare(lhs: Any, rhs: Any, schema: Schema | None, path: Path, out: Comparison) -> None:
    if isinstance(lhs, (dict, list)) and _identical(lhs, rhs):
        # An update leaves most of an object as it was (a binding sets one field of
        # a pod): an unchanged subtree adds, modifies and removes nothing.
        return
    # null is a wildcard that takes the other side's form, as upstream's deduceAtom.
    present = rhs if rhs is not _MISSING and rhs is not None else lhs
    kind = shape(schema, present)
    same_type = any(v is _MISSING or v is None for v in (lhs, rhs)) or shape(schema, lhs) == shape(schema, rhs)
    if kind == "leaf" or not same_type or (_is_emptyish(lhs) and _is_emptyish(rhs)):
        if lhs is _MISSING:
            out.added.insert(path)
        elif rhs is _MISSING:
            out.removed.insert(path)
        elif lhs != rhs:
            out.modified.insert(path)
        return
    if kind == "map":
        lmap = lhs if isinstance(lhs, dict) else {}
        rmap = rhs if isinstance(rhs, dict) else {}
        for key in {**lmap, **rmap}:
            lval, rval = lmap.get(key, _MISSING), rmap.get(key, _MISSING)
            if type(lval) is type(rval) and type(lval) in _SCALARS and lval == rval:
                continue  # an unchanged leaf: nothing to record
            sub_schema, _ = field_schema(schema, key)
            if lval is _MISSING:
                _added(rval, sub_schema, path + (PathElement.field(key),), out)
            else:
                _compare(lval, rval, sub_schema, path + (PathElement.field(key),), out)
    else:
        litems = _items(schema, lhs if isinstance(lhs, list) else [], False)
        ritems = _items(schema, rhs if isinstance(rhs, list) else [], False)
        item_schema = _item_schema(schema)
        for pe in {**litems, **ritems}:
            _compare(litems.get(pe, _MISSING), ritems.get(pe, _MISSING), item_schema, path + (pe,), out)
    # The post-item hook: a map or list item that appears or disappears is a node too.
    if lhs is _MISSING:
        out.added.insert(path)
    elif rhs is _MISSING:
        out.removed.insert(path)


def _added(value: Any, schema: Schema | None, path: Path, out: Comparison) -> None:
    """`_compare(_MISSING, value, ...)` without its questions about the missing side
    (a create compares the whole object against nothing)."""
    kind = shape(schema, value)
    if kind != "leaf" and value != {} and value != []:
        if kind == "map":
            for key, sub in value.items():
                _added(sub, field_schema(schema, key)[0], path + (PathElement.field(key),), out)
        else:
            item_schema = _item_schema(schema)
            for pe, item in _items(schema, value, False).items():
                _added(item, item_schema, path + (pe,), out)
    out.added.insert(path)


def merge(lhs: Any, rhs: Any, schema: Schema | None) -> Any:
    """`rhs` (an applied configuration) merged over `lhs` (the live object). Neither
    argument is mutated; an explicit null in `rhs` drops the field."""
    kind = shape(schema, rhs)
    if kind == "leaf" or shape(schema, lhs) != kind:
        return copy.deepcopy(rhs)
    if kind == "map":
        out: dict[str, Any] = {}
        for key, lval in lhs.items():
            if key not in rhs:
                out[key] = copy.deepcopy(lval)
            elif rhs[key] is not None:
                out[key] = merge(lval, rhs[key], field_schema(schema, key)[0])
        for key, rval in rhs.items():
            if key not in lhs and rval is not None:
                out[key] = copy.deepcopy(rval)
        return out
    return _merge_list(lhs, rhs, schema)


def _merge_list(lhs: list[Any], rhs: list[Any], schema: Schema | None) -> list[Any]:
    """Items matched by path element, in structured-merge-diff's order: live items
    keep their places, applied items follow the applied order among shared ones."""
    item_schema = _item_schema(schema)
    litems, ritems = _items(schema, lhs, False), _items(schema, rhs, False)
    lorder, rorder = list(litems), list(ritems)
    shared = [pe for pe in rorder if pe in litems]
    next_shared = shared.pop(0) if shared else None
    out: list[Any] = []
    li = ri = 0
    while li < len(lorder) or ri < len(rorder):
        if li < len(lorder) and ri < len(rorder):
            pe = lorder[li]
            if pe == rorder[ri]:
                out.append(merge(litems[pe], ritems[pe], item_schema))
                li, ri = li + 1, ri + 1
                next_shared = shared.pop(0) if shared else None
                continue
            if pe in ritems and next_shared is not None and next_shared != pe:
                li += 1  # a shared item whose turn comes with the applied order
                continue
        if li < len(lorder) and lorder[li] not in ritems:
            out.append(copy.deepcopy(litems[lorder[li]]))
            li += 1
            continue
        if ri < len(rorder):
            pe = rorder[ri]
            out.append(merge(litems[pe], ritems[pe], item_schema) if pe in litems else copy.deepcopy(ritems[pe]))
            ri += 1
            if next_shared is not None and next_shared == pe:
                next_shared = shared.pop(0) if shared else None
            continue
        li += 1  # a shared live item already merged through the applied side
    return out


def remove_items(value: Any, to_remove: FieldSet, schema: Schema | None) -> Any:
    """`value` without the paths in `to_remove` (a member path goes with all below
    it). Containers emptied by the removal disappear; None means nothing is left."""
    kind = shape(schema, value)
    if kind == "leaf":
        return None if isinstance(value, (dict, list)) else value
    if kind == "map":
        out: dict[str, Any] = {}
        for key, sub in value.items():
            pe = PathElement.field(key)
            if pe in to_remove.members:
                continue
            below = to_remove.children.get(pe)
            if below is not None and not below.empty():
                sub = remove_items(sub, below, field_schema(schema, key)[0])
                if sub is None:
                    continue
            out[key] = copy.deepcopy(sub)
        return out or None
    items: list[Any] = []
    item_schema = _item_schema(schema)
    for i, item in enumerate(value):
        pe = item_element(schema, item, i)
        if pe in to_remove.members:
            continue
        below = to_remove.children.get(pe)
        if below is not None and not below.empty():
            item = remove_items(item, below, item_schema)
            if item is None:
                continue
        items.append(copy.deepcopy(item))
    return items or None


def ensure_named_fields_are_members(fields: FieldSet, schema: Schema | None) -> FieldSet:
    """`fields` plus every declared struct field that has owned paths below it."""
    out = FieldSet()
    out.members = set(fields.members)
    for pe, sub in fields.children.items():
        if pe.kind == "f":
            sub_schema, declared = field_schema(schema, pe.value)
            if declared:
                out.members.add(pe)
        else:
            sub_schema = _item_schema(schema)
        out.children[pe] = ensure_named_fields_are_members(sub, sub_schema)
    return out
