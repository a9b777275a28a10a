"""The building block of every per-kind strategy here: status ownership and generation.

Upstream, each strategy's PrepareForCreate resets status (to the zero struct, which
serializes as `status: {}`) and, for kinds that track a generation, sets
`metadata.generation = 1`; PrepareForUpdate keeps the old status and bumps the
generation when the desired state changed. `KindStrategy` does the same from three class
attributes, so most kinds only list their defaults and rules.

Kinds without generation tracking upstream (ConfigMap, Secret, Namespace, Node, RBAC,
events...) never get `metadata.generation`, and `bumps_generation` says False for them.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from kubelite.apiserver.registry.strategy import DefaultStrategy, StatusStrategy
from kubelite.machinery.errors import Cause

Obj = dict[str, Any]


class KindStrategy(DefaultStrategy):
    has_status: bool = False
    # Sets metadata.generation = 1 on create and counts changes to `spec_keys`.
    tracks_generation: ClassVar[bool] = False
    # Top-level keys whose change is a change of desired state.
    spec_keys: ClassVar[tuple[str, ...]] = ("spec",)
    # What status a new object starts with (None: no status at all).
    initial_status: ClassVar[Obj | None] = None

    def prepare_for_create(self, obj: Obj) -> None:
        if self.has_status:
            obj.pop("status", None)
            if self.initial_status is not None:
                obj["status"] = copy.deepcopy(self.initial_status)
        if self.tracks_generation:
            obj.setdefault("metadata", {})["generation"] = 1

    def bumps_generation(self, new: Obj, old: Obj) -> bool:
        if not self.tracks_generation:
            return False
        return any(new.get(key) != old.get(key) for key in self.spec_keys)

    def validate(self, obj: Obj) -> list[Cause]:
        return []


class KindStatusStrategy(StatusStrategy):
    """The status subresource of a KindStrategy kind; validate_update checks status rules."""

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return []


def spec_of(obj: Obj) -> Obj:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    return spec
