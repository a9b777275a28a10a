"""What is special about a kind, and nothing else (pkg/registry/*/strategy.go upstream).

The generic store (`registry/store.py`) runs every create and update the same way:

    create:  strategy.prepare_for_create(obj); strategy.default(obj);
             causes = strategy.validate(obj)                    -> 422 Invalid if any
    update:  strategy.prepare_for_update(new, old); strategy.default(new);
             causes = strategy.validate(new) + strategy.validate_update(new, old)

`prepare_*` enforce who owns what (a plain update cannot change status; a status update
cannot change spec), `default` fills upstream's defaults (pkg/apis/*/v1/defaults.go),
`validate*` return field causes with upstream's messages (pkg/apis/*/validation).
Objects are plain JSON dicts, edited in place. `DefaultStrategy` does nothing, so a
kind like ConfigMap needs no class at all.

A subresource (`status`, `scale`...) has its own strategy object: usually the kind's
strategy with `prepare_for_update` copying everything but status from `old`.
"""

from __future__ import annotations

from typing import Any, Protocol

from kubelite.machinery.errors import Cause

Obj = dict[str, Any]


class Strategy(Protocol):
    def prepare_for_create(self, obj: Obj) -> None:
        """Clear what a client may not set on create (e.g. status)."""

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        """Carry over what this endpoint may not change (status for the main resource,
        spec and metadata for the status subresource)."""

    def default(self, obj: Obj) -> None:
        """Fill upstream's defaults, in place. Runs on create and on every update."""

    def validate(self, obj: Obj) -> list[Cause]:
        """Field causes that make `obj` invalid on its own."""

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        """Field causes that make the change invalid (immutable fields...)."""

    def selectable_fields(self, obj: Obj) -> dict[str, str]:
        """Field-selector fields beyond metadata.name and metadata.namespace,
        e.g. {"spec.nodeName": ..., "status.phase": ...} for pods."""

    def bumps_generation(self, new: Obj, old: Obj) -> bool:
        """True if the change is to the object's desired state (spec), which increments
        metadata.generation."""


METADATA_FIELDS = frozenset({"metadata.name", "metadata.namespace"})


def selectable_field_names(strategy: Strategy) -> frozenset[str]:
    """Every field a list or watch of the kind can be selected by: the metadata ones and
    the strategy's, read off an empty object once."""
    return METADATA_FIELDS | frozenset(
        strategy.selectable_fields({"metadata": {}, "spec": {}, "status": {}}))


class DefaultStrategy:
    """Nothing special: no defaults, no extra validation, generation follows spec."""

    # Kinds with a status subresource clear and protect status; set per strategy.
    has_status: bool = False

    def prepare_for_create(self, obj: Obj) -> None:
        if self.has_status:
            obj.pop("status", None)

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        if self.has_status:
            if "status" in old:
                new["status"] = old["status"]
            else:
                new.pop("status", None)

    def default(self, obj: Obj) -> None:
        return None

    def validate(self, obj: Obj) -> list[Cause]:
        return []

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return []

    def selectable_fields(self, obj: Obj) -> dict[str, str]:
        return {}

    def bumps_generation(self, new: Obj, old: Obj) -> bool:
        # Upstream bumps on any change outside metadata and status (spec, data, rules...).
        for key in new.keys() | old.keys():
            if key in ("metadata", "status", "apiVersion", "kind"):
                continue
            if new.get(key) != old.get(key):
                return True
        return False


class StatusStrategy(DefaultStrategy):
    """The `status` subresource of a kind: only status changes; metadata except labels
    and annotations... upstream keeps the whole metadata of the old object except for
    resourceVersion (for optimistic concurrency) and managedFields."""

    def __init__(self, main: Strategy) -> None:
        self.main = main

    def prepare_for_create(self, obj: Obj) -> None:
        return None

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        status = new.get("status")
        meta = new.get("metadata", {})
        for key in list(new.keys()):
            if key not in ("apiVersion", "kind", "metadata", "status"):
                del new[key]
        for key, value in old.items():
            if key not in ("apiVersion", "kind", "metadata", "status"):
                new[key] = value
        old_meta = dict(old.get("metadata", {}))
        for key in ("resourceVersion", "managedFields"):
            if key in meta:
                old_meta[key] = meta[key]
        new["metadata"] = old_meta
        if status is None:
            new.pop("status", None)

    def default(self, obj: Obj) -> None:
        self.main.default(obj)

    def validate(self, obj: Obj) -> list[Cause]:
        return self.main.validate(obj)

    def bumps_generation(self, new: Obj, old: Obj) -> bool:
        return False
