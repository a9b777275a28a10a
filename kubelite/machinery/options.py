"""The options of each verb, decoded from the query once and checked as upstream checks them.

One class per upstream options struct: `ListOptions` (list and watch), `GetOptions`,
`CreateOptions`, `UpdateOptions` and `PatchOptions` here; `DeleteOptions`, which also
reads a request body, in `delete_options.py`. Each field that is a query parameter is
declared by its `Parameter` row (`parameters.py`), so the decoder, the typed field and
the OpenAPI documents share one name and one codec:

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

from kubelite.machinery.errors import Cause, Invalid
from kubelite.machinery.parameters import (
    ALLOW_WATCH_BOOKMARKS,
    CONTINUE,
    DRY_RUN,
    FIELD_MANAGER,
    FIELD_SELECTOR,
    FIELD_VALIDATION,
    FORCE,
    LABEL_SELECTOR,
    LIMIT,
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

_DECLARED: dict[type, dict[str, tuple[str, Parameter]]] = {}


def _declared(cls: type) -> dict[str, tuple[str, Parameter]]:
    """wire name -> (attribute, parameter) of an option class's query fields, read once."""
    found = _DECLARED.get(cls)
    if found is None:
        found = _DECLARED[cls] = {
            f.metadata["parameter"].name: (f.name, f.metadata["parameter"])
            for f in dataclasses.fields(cls) if "parameter" in f.metadata}
    return found


class Options:
    """Base of the option classes: table-driven decoding, and the names they read."""

    __slots__ = ()
    KIND: ClassVar[str]

    @classmethod
    def parameters(cls) -> tuple[Parameter, ...]:
        """The query parameters this kind of options reads (the OpenAPI lists them)."""
        return tuple(p for _, p in _declared(cls).values())

    @classmethod
    def decode(cls, query: Query) -> Self:
        """Only decode (400 on a value the codec cannot read); `parse` also validates."""
        declared = _declared(cls)
        # Walk the few parameters the request has, not every one the class knows:
        # the absent ones keep their field defaults, which are the codecs' zero values.
        return cls(**{declared[key][0]: declared[key][1].decode(query)
                      for key in query.keys() if key in declared})

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


def validate_dry_run(dry_run: tuple[str, ...]) -> list[Cause]:
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
        causes += validate_dry_run(self.dry_run)
        if self.field_validation not in FIELD_VALIDATIONS:
            causes.append(not_supported("fieldValidation", self.field_validation,
                                        FIELD_VALIDATIONS))
        return causes

    @classmethod
    def parse(cls, query: Query) -> Self:
        opts = cls.decode(query)
        if causes := opts.validate():
            raise opts.invalid(causes)
        return opts


@dataclass(frozen=True, slots=True)
class CreateOptions(_WriteOptions):
    """metav1.CreateOptions."""

    KIND: ClassVar[str] = "CreateOptions"


@dataclass(frozen=True, slots=True)
class UpdateOptions(_WriteOptions):
    """metav1.UpdateOptions."""

    KIND: ClassVar[str] = "UpdateOptions"


@dataclass(frozen=True, slots=True)
class PatchOptions(_WriteOptions):
    """metav1.PatchOptions; `force` only means something to server-side apply."""

    KIND: ClassVar[str] = "PatchOptions"
    force: bool | None = FORCE.field()

    @classmethod
    def parse(cls, query: Query, *, apply: bool = False) -> Self:
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
