"""Checks every object's metadata must pass, whatever its kind
(ValidateObjectMetaAccessor in apimachinery's api/validation/objectmeta.go)."""

from __future__ import annotations

from typing import Any

from kubelite.machinery.errors import Cause
from kubelite.machinery.validation import (
    field_invalid,
    is_qualified_name,
    validate_labels,
)

Obj = dict[str, Any]
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def validate_object_meta(meta: Obj) -> list[Cause]:
    causes: list[Cause] = []
    labels = meta.get("labels")
    if labels is not None and not isinstance(labels, dict):
        causes.append(field_invalid("metadata.labels", labels, "must be a map"))
    else:
        causes += validate_labels(labels, "metadata.labels")
    annotations = meta.get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        causes.append(field_invalid("metadata.annotations", annotations, "must be a map"))
    elif annotations:
        causes += _validate_annotations(annotations)
    for i, finalizer in enumerate(meta.get("finalizers") or ()):
        path = f"metadata.finalizers[{i}]"
        if not isinstance(finalizer, str):
            causes.append(field_invalid(path, finalizer, "must be a string"))
            continue
        causes += [field_invalid(path, finalizer, m) for m in is_qualified_name(finalizer)]
    for i, ref in enumerate(meta.get("ownerReferences") or ()):
        path = f"metadata.ownerReferences[{i}]"
        for field in ("apiVersion", "kind", "name", "uid"):
            if not isinstance(ref, dict) or not ref.get(field):
                causes.append(Cause("FieldValueRequired", "Required value",
                                    f"{path}.{field}"))
    return causes


def _validate_annotations(annotations: Obj) -> list[Cause]:
    causes: list[Cause] = []
    total = 0
    for key in sorted(annotations):
        value = annotations[key]
        causes += [field_invalid("metadata.annotations", key, m)
                   for m in is_qualified_name(key.lower())]
        if not isinstance(value, str):
            causes.append(field_invalid(f"metadata.annotations[{key}]", value,
                                        "must be a string"))
            continue
        total += len(key) + len(value)
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        causes.append(Cause("FieldValueTooLong",
                            f"Too long: may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes",
                            "metadata.annotations"))
    return causes
