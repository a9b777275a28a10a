"""What is special about a kind, and nothing else (pkg/registry/*/strategy.go upstream).

The generic store (`registry/store.py`) runs every create, update and delete the same
way and asks the kind's strategy at each step:

    create:  strategy.validate_name(name); strategy.prepare_for_create(obj);
             strategy.prepare_for_create_by(obj, requesting user);
             strategy.default(obj); causes = strategy.validate(obj)   -> 422 Invalid if any
    update:  strategy.prepare_for_update(new, old); strategy.default(new);
             causes = strategy.validate(new) + strategy.validate_update(new, old)
    PUT of a missing object: a create if `allow_create_on_update`, else 404
    PUT without resourceVersion: an unconditional update if `allow_unconditional_update`,
             else 422
    delete:  strategy.grace_period(obj, options) seconds with a deletionTimestamp, held
             by metadata.finalizers and strategy.deletion_finalizers(obj); the answer is
             the object if `return_deleted_object`, else a Success Status

`prepare_*` enforce who owns what (a plain update cannot change status; a status update
cannot change spec), `default` fills upstream's defaults (pkg/apis/*/v1/defaults.go),
`validate*` return field causes with upstream's messages (pkg/apis/*/validation).
Objects are plain JSON dicts, edited in place.

`DefaultStrategy` is the one base class: every answer it gives is upstream's default,
so a kind like ConfigMap needs no class of its own, and a kind that differs in one way
overrides one attribute. Where a kind keeps its scope, plural and subresources is the
catalogue (`kubelite/api/catalogue.py`), not the strategy.

A subresource (`status`, `finalize`, `binding`...) has its own strategy object, named
by the kind's `subresource_strategies`: usually the kind's strategy with
`prepare_for_update` copying everything but the subresource's part from `old`.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar, Protocol

from kubelite.apiserver.auth.user import UserInfo
from kubelite.machinery.errors import Cause
from kubelite.machinery.validation import is_dns1123_subdomain, mask_trailing_dash

Obj = dict[str, Any]


class Strategy(Protocol):
    # PUT of a missing object creates it (AllowCreateOnUpdate upstream).
    allow_create_on_update: bool
    # PUT without metadata.resourceVersion overwrites whatever is stored; otherwise it
    # is 422 (AllowUnconditionalUpdate upstream; false for custom resources and CRDs).
    allow_unconditional_update: bool
    # DELETE answers with the object rather than a Success Status (the store's
    # ReturnDeletedObject upstream).
    return_deleted_object: bool

    def validate_name(self, name: str, prefix: bool = False) -> list[str]:
        """Upstream's name-function messages for `name` ([] if valid). With `prefix`,
        `name` is a generateName prefix, which may end in '-'."""

    def prepare_for_create(self, obj: Obj) -> None:
        """Clear what a client may not set on create (e.g. status)."""

    def prepare_for_create_by(self, obj: Obj, user: UserInfo | None) -> None:
        """What a create takes from the user who asks (a CertificateSigningRequest's
        spec.username); `user` is None for the server's own writes."""

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

    def grace_period(self, obj: Obj, options: Obj) -> int:
        """Seconds a deleted object lingers with its deletionTimestamp before it goes
        (CheckGracefulDelete upstream); 0 deletes at once. `options` is the request's
        DeleteOptions."""

    def deletion_finalizers(self, obj: Obj) -> list[str]:
        """Finalizers beyond metadata.finalizers that hold a deleted object (a
        Namespace's spec.finalizers)."""

    def mark_deleting(self, obj: Obj) -> None:
        """Adjust an object that just got its deletionTimestamp (a Namespace turns
        Terminating)."""

    def subresource_strategies(self) -> dict[str, Strategy]:
        """The strategy of each writable subresource this kind can have; the catalogue
        row says which of them a resource serves."""


METADATA_FIELDS = frozenset({"metadata.name", "metadata.namespace"})


def selectable_field_names(strategy: Strategy) -> frozenset[str]:
    """Every field a list or watch of the kind can be selected by: the metadata ones and
    the strategy's, read off an empty object once."""
    return METADATA_FIELDS | frozenset(
        strategy.selectable_fields({"metadata": {}, "spec": {}, "status": {}}))


class DefaultStrategy:
    """Upstream's default answer to every question; kinds override what differs.

    Upstream, each strategy's PrepareForCreate resets status (to the zero struct, which
    serializes as `status: {}`) and, for kinds that track a generation, sets
    `metadata.generation = 1`; PrepareForUpdate keeps the old status and bumps the
    generation when the desired state changed. The class attributes below say which of
    that a kind does. Kinds without generation tracking upstream (ConfigMap, Secret,
    Namespace, Node, RBAC, events...) never get `metadata.generation`.
    """

    allow_create_on_update: bool = False
    allow_unconditional_update: bool = True
    return_deleted_object: bool = False
    # Kinds with a status subresource clear status on create and keep it on update.
    has_status: bool = False
    # Sets metadata.generation = 1 on create and counts changes to `spec_keys`.
    tracks_generation: ClassVar[bool] = False
    # Top-level keys whose change is a change of desired state.
    spec_keys: ClassVar[tuple[str, ...]] = ("spec",)
    # What status a new object starts with (None: no status at all).
    initial_status: ClassVar[Obj | None] = None
    # A status write may change annotations too (upstream's Deployment status strategy
    # resets only spec and labels: the Deployment loop records its revision so).
    status_writes_annotations: ClassVar[bool] = False

    def validate_name(self, name: str, prefix: bool = False) -> list[str]:
        # NameIsDNSSubdomain: most kinds' names must be DNS subdomains.
        return is_dns1123_subdomain(mask_trailing_dash(name) if prefix else name)

    def prepare_for_create(self, obj: Obj) -> None:
        if self.has_status:
            obj.pop("status", None)
            if self.initial_status is not None:
                obj["status"] = copy.deepcopy(self.initial_status)
        if self.tracks_generation:
            obj.setdefault("metadata", {})["generation"] = 1

    def prepare_for_create_by(self, obj: Obj, user: UserInfo | None) -> None:
        return None

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
        if not self.tracks_generation:
            return False
        return any(new.get(key) != old.get(key) for key in self.spec_keys)

    def grace_period(self, obj: Obj, options: Obj) -> int:
        return 0  # only pods are graceful upstream

    def deletion_finalizers(self, obj: Obj) -> list[str]:
        return []

    def mark_deleting(self, obj: Obj) -> None:
        return None

    def subresource_strategies(self) -> dict[str, Strategy]:
        return {"status": StatusStrategy(self)}


class StatusStrategy(DefaultStrategy):
    """The `status` subresource of a kind: only status changes. Upstream keeps the whole
    metadata of the old object except resourceVersion (for optimistic concurrency) and
    managedFields. Defaults and validation stay the kind's."""

    def __init__(self, main: Strategy) -> None:
        self.main = main
        self.allow_unconditional_update = main.allow_unconditional_update

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
        if getattr(self.main, "status_writes_annotations", False):
            if meta.get("annotations"):
                old_meta["annotations"] = meta["annotations"]
            else:
                old_meta.pop("annotations", None)
        new["metadata"] = old_meta
        if status is None:
            new.pop("status", None)

    def default(self, obj: Obj) -> None:
        self.main.default(obj)

    def validate(self, obj: Obj) -> list[Cause]:
        return self.main.validate(obj)

    def bumps_generation(self, new: Obj, old: Obj) -> bool:
        return False

    def subresource_strategies(self) -> dict[str, Strategy]:
        return {}


def spec_of(obj: Obj) -> Obj:
    """The object's spec, made an empty dict if it is missing or not a dict."""
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    return spec
