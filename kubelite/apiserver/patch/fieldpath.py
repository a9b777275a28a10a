"""Field paths and field sets, encoded the way server-side apply stores them.

A field path names one node of an object: a map field (`f:name`), an item of a
keyed list (`k:{"name":"nginx"}`), an item of a set (`v:"a"`) or a position in a
list (`i:0`). A `FieldSet` is a set of such paths kept as a tree, like
sigs.k8s.io/structured-merge-diff's `fieldpath.Set`: at every node, `members` are the
child elements that are themselves in the set and `children` the subtrees below them.
A path can be both (a list item that is owned and whose fields are owned too).

`to_fields_v1` writes the `metadata.managedFields[].fieldsV1` form byte for byte as
kube-apiserver does: keys ordered by structured-merge-diff's path element order
(names, then keys, then values, then indexes), "." first where a node is itself a
member, key and value JSON compact with sorted keys and Go's HTML escaping. Since
the order is part of the encoding, the dicts returned rely on insertion order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


def go_json(value: Any) -> str:
    """JSON the way Go's encoding/json writes it: compact, map keys sorted, integral
    floats without a fraction, and <, >, & escaped as \\u003c, \\u003e, \\u0026."""
    text = json.dumps(_go_numbers(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


def _go_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, dict):
        return {k: _go_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_go_numbers(v) for v in value]
    return value


def value_order(value: Any) -> tuple[Any, ...]:
    """structured-merge-diff's value.Compare as a sort key: numbers < strings <
    booleans < lists < maps < null."""
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, (int, float)):
        return (0, value)
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(value_order(v) for v in value))
    if isinstance(value, dict):
        return (4, tuple((k, value_order(value[k])) for k in sorted(value)))
    return (5,)


def _go_quote(text: str) -> str:
    # Go's %q on a plain string; JSON string escaping is the same for printable text.
    return json.dumps(text, ensure_ascii=False)


def _value_string(value: Any) -> str:
    """value.ToString: how a key or set value reads inside a conflict's field path."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _go_quote(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return "[" + ",".join(_value_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ";".join(f"{k}={_value_string(value[k])}" for k in sorted(value)) + "}"
    return str(value)


@dataclass(frozen=True, slots=True)
class PathElement:
    """One step of a field path. `kind` is "f", "k", "v" or "i"; `text` is the
    encoded content after the colon, which is canonical, so equality and hashing
    go by it; `value` is the decoded content (name, key dict, value or index)."""

    kind: str
    text: str
    value: Any = field(compare=False, hash=False)

    @classmethod
    def field(cls, name: str) -> PathElement:
        element = _FIELD_ELEMENTS.get(name)
        if element is None or cls is not PathElement:
            element = cls("f", name, name)
            if cls is PathElement and len(_FIELD_ELEMENTS) < _MAX_FIELD_ELEMENTS:
                _FIELD_ELEMENTS[name] = element
        return element

    @classmethod
    def key(cls, keys: dict[str, Any]) -> PathElement:
        ordered = {k: keys[k] for k in sorted(keys)}
        return cls("k", go_json(ordered), ordered)

    @classmethod
    def of_value(cls, value: Any) -> PathElement:
        return cls("v", go_json(value), value)

    @classmethod
    def index(cls, i: int) -> PathElement:
        return cls("i", str(i), i)

    @classmethod
    def parse(cls, encoded: str) -> PathElement:
        kind, sep, rest = encoded.partition(":")
        if sep != ":" or len(kind) != 1:
            raise ValueError(f"missing colon: {encoded}")
        if kind == "f":
            return cls.field(rest)
        if kind == "k":
            return cls.key(json.loads(rest))
        if kind == "v":
            return cls.of_value(json.loads(rest))
        if kind == "i":
            return cls.index(int(rest))
        raise ValueError(f"unknown path element type: {encoded}")

    def encode(self) -> str:
        return f"{self.kind}:{self.text}"

    def order(self) -> tuple[Any, ...]:
        if self.kind == "f":
            return (0, self.value)
        if self.kind == "k":
            return (1, tuple((k, value_order(v)) for k, v in self.value.items()))
        if self.kind == "v":
            return (2, value_order(self.value))
        return (3, self.value)

    def __str__(self) -> str:
        if self.kind == "f":
            return "." + str(self.value)
        if self.kind == "k":
            return "[" + ",".join(f"{k}={_value_string(v)}" for k, v in self.value.items()) + "]"
        if self.kind == "v":
            return f"[={_value_string(self.value)}]"
        return f"[{self.value}]"


# Field elements are immutable and a few hundred names cover the built-in kinds, so
# they are made once: building a frozen dataclass costs more than the lookup.
# User-chosen names (label keys...) are not bounded, hence the cap.
_FIELD_ELEMENTS: dict[str, PathElement] = {}
_MAX_FIELD_ELEMENTS = 10_000

Path = tuple[PathElement, ...]
ChildEmitter = Callable[["FieldSet", bool], dict[str, Any]]


def path_string(path: Path) -> str:
    """`.spec.template.spec.containers[name="nginx"].image`, as in apply conflicts."""
    return "".join(str(pe) for pe in path)


class FieldSet:
    """A set of field paths as a tree. Mutating methods are named for what they do
    (`insert`); the set algebra returns new sets and leaves operands untouched.
    Those results share the subtrees they take whole with their operands (copying
    them was most of the algebra's cost): `insert` only into a set you built."""

    __slots__ = ("members", "children")

    def __init__(self) -> None:
        self.members: set[PathElement] = set()
        self.children: dict[PathElement, FieldSet] = {}

    @classmethod
    def of(cls, *paths: Path) -> FieldSet:
        out = cls()
        for p in paths:
            out.insert(p)
        return out

    def insert(self, path: Path) -> None:
        """Add `path`; the empty path (the whole object) is never tracked, as upstream."""
        if not path:
            return
        node = self
        for pe in path[:-1]:
            child = node.children.get(pe)
            if child is None:
                child = node.children[pe] = FieldSet()
            node = child
        node.members.add(path[-1])

    def child(self, pe: PathElement) -> FieldSet:
        """The subtree below `pe` (empty if none); a view, not a copy."""
        return self.children.get(pe) or FieldSet()

    def has(self, path: Path) -> bool:
        node = self
        for pe in path[:-1]:
            nxt = node.children.get(pe)
            if nxt is None:
                return False
            node = nxt
        return bool(path) and path[-1] in node.members

    def empty(self) -> bool:
        return not self.members and all(c.empty() for c in self.children.values())

    def copy(self) -> FieldSet:
        out = FieldSet()
        out.members = set(self.members)
        out.children = {pe: c.copy() for pe, c in self.children.items()}
        return out

    def union(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members | other.members
        out.children = dict(self.children)
        for pe, c in other.children.items():
            mine = out.children.get(pe)
            out.children[pe] = c if mine is None else mine.union(c)
        return out

    def intersection(self, other: FieldSet) -> FieldSet:
        out = FieldSet()
        out.members = self.members & other.members
        for pe, c in self.children.items():
            if pe in other.children:
                sub = c.intersection(other.children[pe])
                if not sub.empty():
                    out.children[pe] = sub
        return out

    def intersects(self, other: FieldSet) -> bool:
        """Whether a path is in both sets (walks `other`, so ask the big set about
        the small one)."""
        if not self.members.isdisjoint(other.members):
            return True
        return any(pe in self.children and self.children[pe].intersects(c)
                   for pe, c in other.children.items())

    def difference(self, other: FieldSet) -> FieldSet:
        """Paths of self not in other (exact paths: a member of other does not take
        away the paths below it, as structured-merge-diff's Difference)."""
        out = FieldSet()
        out.members = self.members - other.members
        for pe, c in self.children.items():
            sub = c.difference(other.children[pe]) if pe in other.children else c
            if not sub.empty():
                out.children[pe] = sub
        return out

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Paths of self that are not in other nor below a member of other (how
        upstream drops ignored fields such as `status` from a manager's set)."""
        out = FieldSet()
        out.members = self.members - other.members
        for pe, c in self.children.items():
            if pe in other.members:
                continue
            sub = c.recursive_difference(other.children[pe]) if pe in other.children else c
            if not sub.empty():
                out.children[pe] = sub
        return out

    def paths(self, prefix: Path = ()) -> Iterator[Path]:
        """Every path, members of a node before its subtrees, each in element order."""
        for pe in sorted(self.members, key=PathElement.order):
            yield prefix + (pe,)
        for pe in sorted(self.children, key=PathElement.order):
            yield from self.children[pe].paths(prefix + (pe,))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return set(self.paths()) == set(other.paths())

    def __repr__(self) -> str:
        return f"FieldSet({[path_string(p) for p in self.paths()]})"

    def to_fields_v1(self, emit_child: ChildEmitter | None = None) -> dict[str, Any]:
        """The fieldsV1 form. `emit_child(subtree, include_self)` may stand in for
        the encoding of each top-level subtree (to reuse one already made)."""
        return self._emit(include_self=False, emit_child=emit_child)

    def emit(self, include_self: bool) -> dict[str, Any]:
        """The fieldsV1 form of this set as the subtree of a node, with "." when
        `include_self` says the node itself is a member."""
        return self._emit(include_self)

    def _emit(self, include_self: bool, emit_child: ChildEmitter | None = None
              ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        children = {pe: c for pe, c in self.children.items() if not c.empty()}
        if include_self and (self.members or children):
            out["."] = {}
        for pe in sorted(self.members | set(children), key=PathElement.order):
            if pe in children:
                child, member = children[pe], pe in self.members
                out[pe.encode()] = (emit_child(child, member) if emit_child is not None
                                    else child._emit(include_self=member))
            else:
                out[pe.encode()] = {}
        return out

    @classmethod
    def from_fields_v1(cls, encoded: dict[str, Any]) -> FieldSet:
        out = cls()
        for key, sub in encoded.items():
            if key == ".":
                continue
            try:
                pe = PathElement.parse(key)
            except ValueError:
                continue  # an element kind from a newer server: dropped, as upstream does
            if not isinstance(sub, dict) or not sub or "." in sub:
                out.members.add(pe)
            if isinstance(sub, dict) and any(k != "." for k in sub):
                out.children[pe] = cls.from_fields_v1(sub)
        return out
