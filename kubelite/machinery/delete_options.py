"""DeleteOptions: the one options kind that arrives in a body as well as in the query.

kubectl sends DeleteOptions as the DELETE request's body, most other clients as query
parameters, and an Eviction carries them inside its own body. Upstream reads the body
when there is one and the query otherwise; kubelite merges the two (the query wins
field by field, dryRun values from both count), so no client's option is dropped.
A body field of the wrong JSON type is a 400 worded as Go's JSON decoder words it; the
merged options are then checked as apimachinery's ValidateDeleteOptions checks them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from kubelite.machinery.errors import BadRequest, Cause
from kubelite.machinery.go_json import json_value_name, unmarshal_type_error
from kubelite.machinery.options import Options, not_supported, validate_dry_run
from kubelite.machinery.parameters import (
    DRY_RUN,
    GRACE_PERIOD_SECONDS,
    IGNORE_STORE_READ_ERROR,
    ORPHAN_DEPENDENTS,
    PROPAGATION_POLICY,
    Query,
)
from kubelite.machinery.validation import field_invalid

Obj = dict[str, Any]

PROPAGATION_POLICIES = ("Foreground", "Background", "Orphan")

_BODY_TYPES: dict[str, tuple[type, str]] = {
    "gracePeriodSeconds": (int, "int64"), "propagationPolicy": (str, "v1.DeletionPropagation"),
    "orphanDependents": (bool, "bool"), "dryRun": (list, "[]string"),
    "ignoreStoreReadErrorWithClusterBreakingPotential": (bool, "bool"),
    "preconditions": (dict, "v1.Preconditions")}


def _body_field(body: Obj, name: str) -> Any:
    value = body.get(name)
    if value is None:
        return None
    expected, go_type = _BODY_TYPES[name]
    fits = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if fits and name == "dryRun":
        fits = all(isinstance(v, str) for v in value)
    if not fits:
        raise BadRequest(unmarshal_type_error(json_value_name(value), go_type,
                                              "DeleteOptions", name))
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
            raise BadRequest(unmarshal_type_error(json_value_name(body), "v1.DeleteOptions"))
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
        causes += validate_dry_run(self.dry_run)
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
