"""RFC 7386 JSON Merge Patch (`application/merge-patch+json`), as kube-apiserver applies it.

kube-apiserver uses evanphx/json-patch v4 `MergePatch`, whose rules are:

- a `null` member deletes the key; an object member merges into an object recursively;
  anything else (scalars, arrays) replaces the current value;
- when a patch value lands where there was no object to merge into, its `null` members are
  pruned (recursively, including objects nested inside arrays) before it is stored, so a
  merge patch never writes a null into an object; array elements that are null stay;
- a patch body that is not an object (`null`, a scalar, a list) is rejected: upstream
  answers 400 "Invalid JSON Patch" for those (a list would fail decoding later anyway).

Neither argument is mutated; the result shares no containers with them.
`create_merge_patch` is the inverse: the smallest merge patch turning one object into
another (arrays are replaced whole, removed keys become null).
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.machinery.errors import BadRequest

ERR_BAD_PATCH = "Invalid JSON Patch"


def _pruned(value: Any) -> Any:
    """A copy of `value` with null members of every nested object removed."""
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _merge_into(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
            continue
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            _merge_into(current, value)
        elif isinstance(current, dict):
            # an object replaced by a non-object: v4 stores the patch value unpruned
            target[key] = copy.deepcopy(value)
        else:
            target[key] = _pruned(value)


def apply_merge_patch(doc: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Merge `patch` into a copy of `doc` and return it."""
    if not isinstance(patch, dict):
        raise BadRequest(ERR_BAD_PATCH)
    if not isinstance(doc, dict):
        return _pruned(patch)  # v4: a non-object document is simply replaced
    result = copy.deepcopy(doc)
    _merge_into(result, patch)
    return result


def create_merge_patch(original: Any, modified: Any) -> Any:
    """The merge patch that turns `original` into `modified` (both JSON objects)."""
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return copy.deepcopy(modified)
    patch: dict[str, Any] = {}
    for key in original:
        if key not in modified:
            patch[key] = None
    for key, new in modified.items():
        if key not in original:
            patch[key] = copy.deepcopy(new)
            continue
        old = original[key]
        if isinstance(old, dict) and isinstance(new, dict):
            sub = create_merge_patch(old, new)
            if sub:
                patch[key] = sub
        elif not _same(old, new):
            patch[key] = copy.deepcopy(new)
    return patch


def _same(a: Any, b: Any) -> bool:
    # JSON equality: true is not 1, 1 is 1.0
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b and (type(a) is type(b) or {type(a), type(b)} <= {int, float})
