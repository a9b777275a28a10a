"""What a decoded request body may look like before anything else reads it.

kubelite's walks over objects are recursive Python and its JSON encoder stops at 255
levels, so bodies are held to MAX_DEPTH levels of nesting (upstream's decoder allows
10,000; real objects, CRDs with big schemas included, stay far below 150). A deeper body
is a 400, never a RecursionError.

YAML needs more, because PyYAML builds what sigs.k8s.io/yaml would refuse or turn into
JSON differently:
- aliases let one node sit in many places: a document that expands past
  EXPANDED_NODES nodes ("billion laughs") or contains itself is refused, as go-yaml
  refuses "excessive aliasing";
- values JSON has no word for are settled as the YAML-to-JSON conversion does: keys
  become strings (`1:` is "1", `null:` is "null"), dates and timestamps stay the text
  they were, !!binary is its text, a !!set is a map of nulls, an integer past 64 bits is
  a float; a string with a lone UTF-16 surrogate (`"\\ud800"`) is refused, as go-yaml
  refuses the escape.

The walk is iterative and linear in the distinct nodes: each container's depth and
expanded size are computed once, however often aliases refer to it.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.machinery import errors

MAX_DEPTH = 150
EXPANDED_NODES = 1_000_000
_INT64 = 2**63
_UINT64 = 2**64


def too_deep() -> errors.BadRequest:
    return errors.BadRequest(f"the object provided is unrecognized or malformed: "
                             f"exceeded max depth of {MAX_DEPTH} nested objects and lists")


def _yaml_error(what: str) -> errors.BadRequest:
    return errors.BadRequest(f"error converting YAML to JSON: yaml: {what}")


def check_shape(value: Any, *, from_yaml: bool = False) -> Any:
    """The body, nested no deeper than MAX_DEPTH (400 otherwise); with `from_yaml`, also
    settled into plain JSON values and checked for aliasing. Returns the (possibly
    replaced) root."""
    if from_yaml:
        value = _settle(value)
    if not isinstance(value, (dict, list)):
        return value
    shape: dict[int, tuple[int, int]] = {}  # id -> (depth, expanded nodes)
    pending: set[int] = set()  # containers whose children are still being walked
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if not children_done:
            if key in shape:
                continue  # an alias of a container already measured
            if from_yaml:
                _settle_children(node)
            pending.add(key)
            stack.append((node, True))
            for child in _containers(node):
                if id(child) in pending:
                    raise _yaml_error("anchor value contains itself")
                if id(child) not in shape:
                    stack.append((child, False))
            continue
        pending.discard(key)
        children = _containers(node)
        depth = 1 + max((shape[id(c)][0] for c in children), default=0)
        size = len(node) + 1 + sum(shape[id(c)][1] - 1 for c in children)
        if depth > MAX_DEPTH:
            raise too_deep()
        if size > EXPANDED_NODES:
            raise _yaml_error("document contains excessive aliasing")
        shape[key] = (depth, size)
    return value


def _containers(node: dict[str, Any] | list[Any]) -> list[Any]:
    values = node.values() if isinstance(node, dict) else node
    return [c for c in values if isinstance(c, (dict, list))]


def _settle_children(node: dict[Any, Any] | list[Any]) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            if not isinstance(item, (dict, list)):
                node[i] = _settle(item)
        return
    for key in list(node):
        item = node[key]
        new_item = item if isinstance(item, (dict, list)) else _settle(item)
        if type(key) is not str:
            del node[key]
            node[_key_text(key)] = new_item
        elif new_item is not item:
            node[key] = new_item
        else:
            _check_text(key)


def _settle(value: Any) -> Any:
    """A YAML scalar (or set or tuple) as JSON would hold it."""
    if isinstance(value, str):
        _check_text(value)
        return value
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if -_INT64 <= value < _UINT64 else float(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (set, frozenset)):
        return {_key_text(k): None for k in value}
    if isinstance(value, tuple):
        return list(value)
    return value


def _key_text(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, str):
        _check_text(key)
        return key
    if isinstance(key, (int, float, datetime.date)):
        return str(_settle(key))
    raise _yaml_error("invalid map key")


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise _yaml_error("found invalid Unicode character escape code") from None
