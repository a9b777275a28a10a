"""RFC 6902 JSON Patch (`application/json-patch+json`), as kube-apiserver applies it.

kube-apiserver runs evanphx/json-patch v4 and maps its failures onto Status errors
(`staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go`, `applyJSPatch`):

- a body that is not a list of objects -> 400 BadRequest with the decoder's message;
- more than 10000 operations -> 413 RequestEntityTooLarge;
- any failure while applying (failed `test`, missing path, bad index, unknown op) -> 422
  Invalid with the fixed text "the server rejected our request due to an error in our
  request"; upstream drops the detail, so it is kept only as the exception's `__cause__`.

Behaviour follows json-patch v4 where it differs from the RFC: negative array indices count
from the end, `add`/`replace` without `value` write null, `test` of a missing path passes
when the expected value is null, and `remove` of a missing key fails. The input document is
never mutated; the result shares no containers with it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from kubelite.machinery.errors import BadRequest, Invalid, RequestEntityTooLarge
from kubelite.machinery.go_json import json_value_name, unmarshal_type_error

MAX_OPERATIONS = 10000
REJECTED = "the server rejected our request due to an error in our request"
_INDEX = re.compile(r"[+-]?[0-9]+\Z")
_MISSING = object()


class PatchError(Exception):
    """Why one operation could not be applied (json-patch's own wording)."""


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1 and key order is irrelevant."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"path must start with '/': {path}")
    # ~1 before ~0, so "~01" decodes to "~1" and not "/"
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _index(token: str, size: int, *, adding: bool) -> int:
    if not _INDEX.match(token):
        raise PatchError(f"value was not a proper array index: '{token}'")
    idx = int(token)
    limit = size + 1 if adding else size
    if idx >= limit or idx < -limit:
        raise PatchError(f"Unable to access invalid index: {idx}")
    return idx + limit if idx < 0 else idx


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    if not isinstance(node, (dict, list)):
        raise PatchError(f"doc is missing path: \"{path}\"")
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(token, len(node), adding=False)]
        else:
            raise PatchError(f"doc is missing path: \"{path}\"")
        if not isinstance(node, (dict, list)):
            raise PatchError(f"doc is missing path: \"{path}\"")
    return node


def _get(doc: Any, path: str) -> Any:
    tokens = _tokens(path)
    if not tokens:
        return doc
    parent, key = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        return parent.get(key, _MISSING)
    return parent[_index(key, len(parent), adding=False)]


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _tokens(path)
    if not tokens:
        raise PatchError("Unable to add to the root of the document")
    parent, key = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        parent[key] = value
    elif key == "-":
        parent.append(value)
    else:
        parent.insert(_index(key, len(parent), adding=True), value)
    return doc


def _remove(doc: Any, path: str) -> Any:
    tokens = _tokens(path)
    if not tokens:
        raise PatchError("Unable to remove the root of the document")
    parent, key = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"Unable to remove nonexistent key: {key}: missing value")
        del parent[key]
    else:
        del parent[_index(key, len(parent), adding=False)]
    return doc


def _replace(doc: Any, path: str, value: Any) -> Any:
    tokens = _tokens(path)
    if not tokens:
        raise PatchError("Unable to replace the root of the document")
    parent, key = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"replace operation does not apply: doc is missing key: {path}")
        parent[key] = value
    else:
        parent[_index(key, len(parent), adding=False)] = value
    return doc


def _string_field(op: dict[str, Any], name: str) -> str:
    value = op.get(name, _MISSING)
    if value is _MISSING:
        raise PatchError(f"operation missing {name} field")
    if not isinstance(value, str):
        raise PatchError(f"operation {name} field is not a string")
    return value


def _apply_one(doc: Any, op: dict[str, Any]) -> Any:
    kind = op.get("op")
    value = copy.deepcopy(op.get("value"))
    if kind == "add":
        return _add(doc, _string_field(op, "path"), value)
    if kind == "remove":
        return _remove(doc, _string_field(op, "path"))
    if kind == "replace":
        return _replace(doc, _string_field(op, "path"), value)
    if kind in ("move", "copy"):
        source, target = _string_field(op, "from"), _string_field(op, "path")
        found = _get(doc, source)
        if found is _MISSING:
            raise PatchError(f"{kind} operation does not apply: doc is missing from path: {source}")
        if kind == "move":
            if target != source and target.startswith(source + "/"):
                raise PatchError(f"Unable to move {source} into its own child {target}")
            _remove(doc, source)
            return _add(doc, target, found)
        return _add(doc, target, copy.deepcopy(found))
    if kind == "test":
        path = _string_field(op, "path")
        found = _get(doc, path)
        if found is _MISSING:
            if op.get("value") is None:
                return doc
        elif json_equal(found, op.get("value")):
            return doc
        raise PatchError(f"testing value {path} failed: test failed")
    raise PatchError(f"Unexpected kind: {kind}")


def decode_patch(patch: Any) -> list[dict[str, Any]]:
    """jsonpatch.DecodePatch on an already-parsed body: 400 unless a list of objects."""
    if patch is None:
        return []  # Go decodes `null` into an empty patch
    if not isinstance(patch, list):
        raise BadRequest(unmarshal_type_error(json_value_name(patch), "jsonpatch.Patch"))
    for op in patch:
        if not isinstance(op, dict):
            raise BadRequest(unmarshal_type_error(json_value_name(op), "jsonpatch.Operation"))
    if len(patch) > MAX_OPERATIONS:
        raise RequestEntityTooLarge(
            "Request entity too large: The allowed maximum operations in a JSON patch is "
            f"{MAX_OPERATIONS}, got {len(patch)}"
        )
    return patch


def apply_json_patch(doc: Any, patch_ops: Any) -> Any:
    """Apply a decoded JSON Patch body to `doc`, returning a new document."""
    ops = decode_patch(patch_ops)
    result = copy.deepcopy(doc)
    for op in ops:
        try:
            result = _apply_one(result, op)
        except (PatchError, IndexError) as err:
            raise Invalid(REJECTED) from err
    return result
