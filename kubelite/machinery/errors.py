"""Kubernetes API errors: one exception per `Status` reason.

Every error the API server returns is a `Status` object (kind Status, apiVersion v1) with
an HTTP code, a machine-readable `reason` and, where it helps the client, `details`
(the kind and name involved, and per-field `causes` for Invalid). Raising one of these
anywhere below the HTTP layer is enough: the handler turns it into that body and code,
the way apimachinery/pkg/api/errors does for kube-apiserver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class Cause:
    """One reason a request was invalid, pointing at the offending field."""

    type: str  # FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, ...
    message: str
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        out = {"reason": self.type, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


class StatusError(Exception):
    """Base of every API error; `code` and `reason` are the wire values."""

    code: ClassVar[int] = 500
    reason: ClassVar[str] = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        group: str = "",
        kind: str = "",
        name: str = "",
        causes: tuple[Cause, ...] = (),
        retry_after: int = 0,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.group = group
        self.kind = kind
        self.name = name
        self.causes = causes
        self.retry_after = retry_after

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        details: dict[str, Any] = {}
        if self.name:
            details["name"] = self.name
        if self.group:
            details["group"] = self.group
        if self.kind:
            details["kind"] = self.kind
        if self.causes:
            details["causes"] = [c.to_dict() for c in self.causes]
        if self.retry_after:
            details["retryAfterSeconds"] = self.retry_after
        if details:
            status["details"] = details
        return status


class BadRequest(StatusError):
    code = 400
    reason = "BadRequest"


class Unauthorized(StatusError):
    code = 401
    reason = "Unauthorized"


class Forbidden(StatusError):
    code = 403
    reason = "Forbidden"


class NotFound(StatusError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(StatusError):
    code = 405
    reason = "MethodNotAllowed"


class NotAcceptable(StatusError):
    code = 406
    reason = "NotAcceptable"


class AlreadyExists(StatusError):
    code = 409
    reason = "AlreadyExists"


class Conflict(StatusError):
    code = 409
    reason = "Conflict"


class Gone(StatusError):
    """A watch or list from a resourceVersion that compaction has removed."""

    code = 410
    reason = "Expired"


class RequestEntityTooLarge(StatusError):
    code = 413
    reason = "RequestEntityTooLarge"


class UnsupportedMediaType(StatusError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(StatusError):
    code = 422
    reason = "Invalid"


class TooManyRequests(StatusError):
    code = 429
    reason = "TooManyRequests"


class InternalError(StatusError):
    code = 500
    reason = "InternalError"


class ServiceUnavailable(StatusError):
    code = 503
    reason = "ServiceUnavailable"


class Timeout(StatusError):
    code = 504
    reason = "Timeout"


def method_not_allowed() -> MethodNotAllowed:
    return MethodNotAllowed("the server does not allow this method on the requested resource")


def no_such_resource() -> NotFound:
    """A path that names no resource this server serves."""
    return NotFound("the server could not find the requested resource")


def not_found(group: str, resource: str, name: str) -> NotFound:
    """The message upstream prints: `pods "x" not found` / `deployments.apps "x" not found`."""
    qualified = f"{resource}.{group}" if group else resource
    return NotFound(f'{qualified} "{name}" not found', group=group, kind=resource, name=name)


def already_exists(group: str, resource: str, name: str) -> AlreadyExists:
    qualified = f"{resource}.{group}" if group else resource
    return AlreadyExists(
        f'{qualified} "{name}" already exists', group=group, kind=resource, name=name
    )


def conflict(group: str, resource: str, name: str, why: str) -> Conflict:
    qualified = f"{resource}.{group}" if group else resource
    return Conflict(
        f'Operation cannot be fulfilled on {qualified} "{name}": {why}',
        group=group,
        kind=resource,
        name=name,
    )


def invalid(group: str, kind: str, name: str, causes: list[Cause]) -> Invalid:
    """422 with upstream's message: `Pod "x" is invalid: [spec.containers: Required value, ...]`,
    the kind qualified by its group as GroupKind.String() does (`Deployment.apps "x"`)."""
    qualified = f"{kind}.{group}" if group else kind
    parts = [f"{c.field}: {c.message}" if c.field else c.message for c in causes]
    joined = parts[0] if len(parts) == 1 else "[" + ", ".join(parts) + "]"
    return Invalid(
        f'{qualified} "{name}" is invalid: {joined}',
        group=group,
        kind=kind,
        name=name,
        causes=tuple(causes),
    )
