"""Pieces of plugin args that several plugins share (upstream's types_pluginargs.go and
validation_pluginargs.go): ResourceSpec, UtilizationShapePoint and their checks, and the
protocol a plugin with args follows.

A plugin class that takes args defines

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Self

which decodes them strictly (`decode_args`: unknown fields and mistyped values), applies
upstream's defaults, validates with upstream's messages, and raises `ArgsError` with
every problem (paths relative to the args, e.g. `scoringStrategy.type`); the loader
(config.py) places them under `profiles[i].pluginConfig[j].args`. The args it is given
never hold apiVersion/kind: the loader checked and removed them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.machinery.validation import is_qualified_name
from kubelite.scheduler.config_decode import Struct, check, fatal
from kubelite.scheduler.config_errors import (
    ArgsError, FieldError, child, index, invalid, required)

MAX_CUSTOM_PRIORITY_SCORE = 10
MAX_UTILIZATION = 100

RESOURCE_SPEC = Struct("v1.ResourceSpec", {"name": "string", "weight": "int64"})
SHAPE_POINT = Struct("v1.UtilizationShapePoint", {"utilization": "int32", "score": "int32"})
DEFAULT_RESOURCES: tuple[tuple[str, int], ...] = (("cpu", 1), ("memory", 1))


def decode_args(args: Mapping[str, Any], schema: Struct) -> list[FieldError]:
    """Strict decoding of one plugin's args: raises ArgsError on anything the decoder
    refuses; returns an empty list to start collecting field errors in."""
    decoding = check(dict(args), schema)
    if decoding:
        raise ArgsError(decoding=decoding)
    return []


def validate_label_name(name: str, path: str) -> list[FieldError]:
    """metav1validation.ValidateLabelName."""
    return [invalid(path, name, message) for message in is_qualified_name(name)]


def resource_specs(raw: Sequence[Mapping[str, Any]] | None) -> list[tuple[str, int]]:
    """ResourceSpecs with upstream's defaulting: none means cpu and memory, weight 0 means 1."""
    if not raw:
        return list(DEFAULT_RESOURCES)
    return [(str(r.get("name") or ""), int(r.get("weight") or 0) or 1) for r in raw]


def validate_resource_weights(resources: Sequence[tuple[str, int]], path: str) -> list[FieldError]:
    """validateResources: each weight in (0, 100]."""
    return [invalid(child(index(path, i), "weight"), weight,
                    f"resource weight of {name} not in valid range (0, 100]")
            for i, (name, weight) in enumerate(resources) if not 0 < weight <= 100]


def shape_points(raw: Sequence[Mapping[str, Any]] | None) -> list[tuple[int, int]]:
    return [(int(p.get("utilization") or 0), int(p.get("score") or 0)) for p in raw or ()]


def validate_function_shape(shape: Sequence[tuple[int, int]], path: str) -> list[FieldError]:
    """validateFunctionShape: at least one point, utilizations increasing, each
    utilization in [0, 100] and each score in [0, 10]."""
    if not shape:
        return [required(path, "at least one point must be specified")]
    errors: list[FieldError] = []
    for i in range(1, len(shape)):
        if shape[i - 1][0] >= shape[i][0]:
            errors.append(invalid(child(index(path, i), "utilization"), shape[i][0],
                                  "values must be sorted in increasing order"))
            break
    for i, (utilization, score) in enumerate(shape):
        if not 0 <= utilization <= MAX_UTILIZATION:
            errors.append(invalid(child(index(path, i), "utilization"), utilization,
                                  f"not in valid range [0, {MAX_UTILIZATION}]"))
        if not 0 <= score <= MAX_CUSTOM_PRIORITY_SCORE:
            errors.append(invalid(child(index(path, i), "score"), score,
                                  f"not in valid range [0, {MAX_CUSTOM_PRIORITY_SCORE}]"))
    return errors


__all__ = ["ArgsError", "FieldError", "Struct", "decode_args", "fatal", "resource_specs",
           "shape_points", "validate_function_shape", "validate_label_name",
           "validate_resource_weights"]
