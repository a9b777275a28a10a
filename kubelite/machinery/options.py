"""The options of each verb, decoded from the query once and checked as upstream checks them.

One class per upstream options struct: `ListOptions` (list and watch), `GetOptions`,
`CreateOptions`, `UpdateOptions`, `PatchOptions`, `DeleteOptions`. Each field that is a
query parameter is declared by its `Parameter` row (`parameters.py`), so the decoder,
the typed field and the OpenAPI documents share one name and one codec:

    limit: int = LIMIT.field()

`parse` decodes and validates: a value the codec cannot read is a 400 BadRequest with
Go's conversion error (what `ParameterCodec.DecodeParameters` returns); a readable but
unacceptable value is a 422 Invalid naming the options kind, worded as apimachinery's
`meta/v1/validation` and `meta/internalversion/validation` word it, e.g.
`PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for
non-apply patch`. Parameters a class does not declare are ignored, as upstream ignores
them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from kubelite.machinery.errors import BadRequest, Cause, Invalid
from kubelite.machinery.parameters import (
    ALLOW_WATCH_BOOKMARKS,
    CONTINUE,
    DRY_RUN,
    FIELD_MANAGER,
    FIELD_SELECTOR,
    FIELD_VALIDATION,
    FORCE,
    GRACE_PERIOD_SECONDS,
    IGNORE_STORE_READ_ERROR,
    LABEL_SELECTOR,
    LIMIT,
    ORPHAN_DEPENDENTS,
    PROPAGATION_POLICY,
    RESOURCE_VERSION,
    RESOURCE_VERSION_MATCH,
    SEND_INITIAL_EVENTS,
    TIMEOUT_SECONDS,
    WATCH,
    Parameter,
    Query,
)
from kubelite.machinery.validation import field_invalid, go_quote, go_value, join_messages

Obj = dict[str, Any]

META_GROUP = "meta.k8s.io"
FIELD_MANAGER_MAX_LENGTH = 128
DRY_RUN_ALL = "All"
FIELD_VALIDATIONS = ("", "Ignore", "Strict", "Warn")  # sorted, as upstream lists them
PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")
EXACT, NOT_OLDER_THAN = "Exact", "NotOlderThan"


# --- field errors, as field.Error.ErrorBody() prints them --------------------------

def forbidden(path: str, detail: str) -> Cause:
    return Cause("FieldValueForbidden", f"Forbidden: {detail}", path)


def required(path: str, detail: str) -> Cause:
    return Cause("FieldValueRequired", f"Required value: {detail}", path)


def not_supported(path: str, value: object, supported: tuple[str, ...]) -> Cause:
    allowed = ", ".join(go_quote(s) for s in supported)
    return Cause("FieldValueNotSupported",
                 f"Unsupported value: {go_value(value)}: supported values: {allowed}", path)


def invalid_options(kind: str, causes: list[Cause]) -> Invalid:
    """errors.NewInvalid(GroupKind{meta.k8s.io, kind}, "", errs)."""
    message = join_messages([f"{c.field}: {c.message}" for c in causes])
    return Invalid(f'{kind}.{META_GROUP} "" is invalid: {message}', group=META_GROUP,
                   kind=kind, causes=tuple(causes))


# --- decoding --------------------------------------------------------------------------

_DECLARED: dict[type, tuple[tuple[str, Parameter], ...]] = {}


def _declared(cls: type) -> tuple[tuple[str, Parameter], ...]:
    """(attribute, parameter) of each query field of an option class, read once."""
    found = _DECLARED.get(cls)
    if found is None:
        found = _DECLARED[cls] = tuple(
            (f.name, f.metadata["parameter"]) for f in dataclasses.fields(cls)
            if "parameter" in f.metadata)
    return found


class Options:
    """Base of the option classes: table-driven decoding, and the names they read."""

    __slots__ = ()
    KIND: ClassVar[str]

    @classmethod
    def parameters(cls) -> tuple[Parameter, ...]:
        """The query parameters this kind of options reads (the OpenAPI lists them)."""
        return tuple(p for _, p in _declared(cls))

    @classmethod
    def decode(cls, query: Query) -> Self:
        """Only decode (400 on a value the codec cannot read); `parse` also validates."""
        return cls(**{name: p.decode(query) for name, p in _declared(cls)})

    def invalid(self, causes: list[Cause]) -> Invalid:
        return invalid_options(self.KIND, causes)


@dataclass(frozen=True, slots=True)
class ListOptions(Options):
    """metav1.ListOptions: the options of list, watch and deletecollection."""

    KIND: ClassVar[str] = "ListOptions"
    label_selector: str = LABEL_SELECTOR.field()
    field_selector: str = FIELD_SELECTOR.field()
    watch: bool = WATCH.field()
    allow_watch_bookmarks: bool = ALLOW_WATCH_BOOKMARKS.field()
    resource_version: str = RESOURCE_VERSION.field()
    resource_version_match: str = RESOURCE_VERSION_MATCH.field()
    timeout_seconds: int | None = TIMEOUT_SECONDS.field()
    limit: int = LIMIT.field()
    continue_: str = CONTINUE.field()
    send_initial_events: bool | None = SEND_INITIAL_EVENTS.field()

    @classmethod
    def parse(cls, query: Query, *, force_watch: bool = False) -> ListOptions:
        """`force_watch`: the legacy `/watch/` paths, which watch without `?watch`."""
        opts = cls.decode(query)
        if force_watch and not opts.watch:
            opts = dataclasses.replace(opts, watch=True)
        if causes := opts.validate():
            raise opts.invalid(causes)
        return opts

    def validate(self) -> list[Cause]:
        """metainternalversion validation.ValidateListOptions (WatchList enabled)."""
        return self._validate_watch() if self.watch else self._validate_list()

    def _validate_list(self) -> list[Cause]:
        causes: list[Cause] = []
        match = self.resource_version_match
        if match:
            if not self.resource_version:
                causes.append(forbidden("resourceVersionMatch", "resourceVersionMatch is "
                                        "forbidden unless resourceVersion is provided"))
            if self.continue_:
                causes.append(forbidden("resourceVersionMatch", "resourceVersionMatch is "
                                        "forbidden when continue is provided"))
            if match not in (EXACT, NOT_OLDER_THAN):
                causes.append(not_supported("resourceVersionMatch", match,
                                            (EXACT, NOT_OLDER_THAN, "")))
            if match == EXACT and self.resource_version == "0":
                causes.append(forbidden("resourceVersionMatch", 'resourceVersionMatch "exact" '
                                        'is forbidden for resourceVersion "0"'))
        if self.send_initial_events is not None:
            causes.append(forbidden("sendInitialEvents", "sendInitialEvents is forbidden for list"))
        return causes

    def _validate_watch(self) -> list[Cause]:
        causes: list[Cause] = []
        match = self.resource_version_match
        if self.send_initial_events is not None:
            if match != NOT_OLDER_THAN:
                causes.append(forbidden("resourceVersionMatch", "sendInitialEvents requires "
                                        f"setting resourceVersionMatch to {NOT_OLDER_THAN}"))
            # The initial events end with a bookmark, so a client that cannot take
            # bookmarks could never tell where the state ends.
            if self.send_initial_events and not self.allow_watch_bookmarks:
                causes.append(forbidden("allowWatchBookmarks", "sendInitialEvents requires "
                                        "setting allowWatchBookmarks to true"))
        if match:
            if self.send_initial_events is None:
                causes.append(forbidden("resourceVersionMatch", "resourceVersionMatch is "
                                        "forbidden for watch unless sendInitialEvents is "
                                        "provided"))
            if match != NOT_OLDER_THAN:
                causes.append(not_supported("resourceVersionMatch", match, (NOT_OLDER_THAN,)))
            if self.continue_:
                causes.append(forbidden("resourceVersionMatch", "resourceVersionMatch is "
                                        "forbidden when continue is provided"))
        return causes


@dataclass(frozen=True, slots=True)
class GetOptions(Options):
    """metav1.GetOptions."""

    KIND: ClassVar[str] = "GetOptions"
    resource_version: str = RESOURCE_VERSION.field()

    @classmethod
    def parse(cls, query: Query) -> GetOptions:
        return cls.decode(query)


def _validate_dry_run(dry_run: tuple[str, ...]) -> list[Cause]:
    if all(v == DRY_RUN_ALL for v in dry_run):
        return []
    return [not_supported("dryRun", list(dry_run), (DRY_RUN_ALL,))]


def _validate_field_manager(manager: str) -> list[Cause]:
    causes: list[Cause] = []
    if len(manager.encode()) > FIELD_MANAGER_MAX_LENGTH:
        causes.append(Cause("FieldValueTooLong", "Too long: may not be more than "
                            f"{FIELD_MANAGER_MAX_LENGTH} bytes", "fieldManager"))
    position = 0  # Go ranges over a string by byte offset
    for char in manager:
        if not char.isprintable():
            causes.append(field_invalid("fieldManager", manager, f"invalid character "
                                        f"U+{ord(char):04X} (at position {position})"))
        position += len(char.encode())
    return causes


@dataclass(frozen=True, slots=True)
class _WriteOptions(Options):
    dry_run: tuple[str, ...] = DRY_RUN.field()
    field_manager: str = FIELD_MANAGER.field()
    field_validation: str = FIELD_VALIDATION.field()

    @property
    def validation_directive(self) -> str:
        """Ignore, Warn or Strict: unset means Warn, as since Kubernetes 1.23."""
        return self.field_validation or "Warn"

    def validate(self) -> list[Cause]:
        causes = _validate_field_manager(self.field_manager)
        causes += _validate_dry_run(self.dry_run)
        if self.field_validation not in FIELD_VALIDATIONS:
            causes.append(not_supported("fieldValidation", self.field_validation,
                                        FIELD_VALIDATIONS))
        return causes


@dataclass(frozen=True, slots=True)
class CreateOptions(_WriteOptions):
    """metav1.CreateOptions."""

    KIND: ClassVar[str] = "CreateOptions"

    @classmethod
    def parse(cls, query: Query) -> CreateOptions:
        opts = cls.decode(query)
        if causes := opts.validate():
            raise opts.invalid(causes)
        return opts


@dataclass(frozen=True, slots=True)
class UpdateOptions(_WriteOptions):
    """metav1.UpdateOptions."""

    KIND: ClassVar[str] = "UpdateOptions"

    @classmethod
    def parse(cls, query: Query) -> UpdateOptions:
        opts = cls.decode(query)
        if causes := opts.validate():
            raise opts.invalid(causes)
        return opts


@dataclass(frozen=True, slots=True)
class PatchOptions(_WriteOptions):
    """metav1.PatchOptions; `force` only means something to server-side apply."""

    KIND: ClassVar[str] = "PatchOptions"
    force: bool | None = FORCE.field()

    @classmethod
    def parse(cls, query: Query, *, apply: bool) -> PatchOptions:
        """`apply`: the patch is application/apply-patch+yaml."""
        opts = cls.decode(query)
        causes: list[Cause] = []
        if not apply and opts.force is not None:
            causes.append(forbidden("force", "may not be specified for non-apply patch"))
        if apply and not opts.field_manager:
            # kubectl defaults it to "kubectl"; controllers must name themselves.
            causes.append(required("fieldManager", "is required for apply patch"))
        causes += opts.validate()
        if causes:
            raise opts.invalid(causes)
        return opts


_BODY_TYPES: dict[str, tuple[type, str]] = {
    "gracePeriodSeconds": (int, "int64"), "propagationPolicy": (str, "v1.DeletionPropagation"),
    "orphanDependents": (bool, "bool"), "dryRun": (list, "[]string"),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (bool, "bool"),
    "preconditions": (dict, "v1.Preconditions")}


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _body_field(body: Obj, name: str) -> Any:
    value = body.get(name)
    if value is None:
        return None
    expected, go_type = _BODY_TYPES[name]
    fits = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if fits and name == "dryRun":
        fits = all(isinstance(v, str) for v in value)
    if not fits:
        raise BadRequest(f"json: cannot unmarshal {_json_type(value)} into Go struct field "
                         f"DeleteOptions.{name} of type {go_type}")
    return value


@dataclass(frozen=True, slots=True)
class DeleteOptions(Options):
    """metav1.DeleteOptions, from the query and the request body (kubectl sends a body,
    other clients the query); where both set a field the query wins, and dryRun
    values from both count."""

    KIND: ClassVar[str] = "DeleteOptions"
    grace_period_seconds: int | None = GRACE_PERIOD_SECONDS.field()
    propagation_policy: str | None = PROPAGATION_POLICY.field()
    orphan_dependents: bool | None = ORPHAN_DEPENDENTS.field()
    dry_run: tuple[str, ...] = DRY_RUN.field()
    ignore_store_read_error: bool | None = IGNORE_STORE_READ_ERROR.field()
    preconditions: Obj | None = None  # body only: uid and resourceVersion to match

    @classmethod
    def parse(cls, query: Query | None = None, body: object = None) -> DeleteOptions:
        """`body`: the decoded request body (or an Eviction's deleteOptions), if any."""
        given = cls.decode(query) if query is not None else cls()
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise BadRequest(f"json: cannot unmarshal {_json_type(body)} into Go value of "
                             "type v1.DeleteOptions")
        from_body = cls(
            grace_period_seconds=_body_field(body, "gracePeriodSeconds"),
            propagation_policy=_body_field(body, "propagationPolicy"),
            orphan_dependents=_body_field(body, "orphanDependents"),
            dry_run=tuple(_body_field(body, "dryRun") or ()),
            ignore_store_read_error=_body_field(
                body, "ignoreStoreReadErrorWithClusterBreakingPotential"),
            preconditions=_body_field(body, "preconditions"))
        opts = cls(
            grace_period_seconds=_first(given.grace_period_seconds,
                                        from_body.grace_period_seconds),
            propagation_policy=_first(given.propagation_policy, from_body.propagation_policy),
            orphan_dependents=_first(given.orphan_dependents, from_body.orphan_dependents),
            dry_run=tuple(dict.fromkeys(from_body.dry_run + given.dry_run)),
            ignore_store_read_error=_first(given.ignore_store_read_error,
                                           from_body.ignore_store_read_error),
            preconditions=from_body.preconditions)
        if causes := opts.validate():
            raise opts.invalid(causes)
        return opts

    def validate(self) -> list[Cause]:
        causes: list[Cause] = []
        policy = self.propagation_policy
        if self.orphan_dependents is not None and policy is not None:
            causes.append(field_invalid("propagationPolicy", policy, "orphanDependents and "
                                        "deletionPropagation cannot be both set"))
        if policy is not None and policy not in PROPAGATION_POLICIES:
            causes.append(not_supported("propagationPolicy", policy,
                                        (*PROPAGATION_POLICIES, "nil")))
        causes += _validate_dry_run(self.dry_run)
        if self.ignore_store_read_error:
            for name, value in (("dryRun", self.dry_run or None),
                                ("propagationPolicy", policy),
                                ("orphanDependents", self.orphan_dependents),
                                ("gracePeriodSeconds", self.grace_period_seconds),
                                ("preconditions", self.preconditions)):
                if value is not None:
                    causes.append(field_invalid(
                        "ignoreStoreReadErrorWithClusterBreakingPotential", True,
                        f"cannot be set together with .{name}"))
        return causes

    def to_object(self) -> Obj:
        """The DeleteOptions object as the store reads it (wire field names)."""
        out: Obj = {"dryRun": list(self.dry_run)}
        for key, value in (("gracePeriodSeconds", self.grace_period_seconds),
                           ("propagationPolicy", self.propagation_policy),
                           ("orphanDependents", self.orphan_dependents),
                           ("preconditions", self.preconditions)):
            if value is not None:
                out[key] = value
        return out


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)
