"""Turn a Kubernetes `Status` body back into the matching `StatusError`.

The API server answers every failed request with a Status (kind Status, apiVersion v1)
carrying `reason`, `code`, `message` and `details`; this is the client half of
kubelite.machinery.errors. The `reason` picks the exception class when it is one we
know; otherwise the HTTP code does, as apimachinery's `errors.FromObject` and
`ReasonForError` do. Any other body (a proxy's HTML page, plain text) still becomes
an error of the code's class, with the text as message, so callers only ever catch
`StatusError` subclasses.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.machinery import errors

_BY_REASON: dict[str, type[errors.StatusError]] = {
    cls.reason: cls
    for cls in (
        errors.BadRequest, errors.Unauthorized, errors.Forbidden, errors.NotFound,
        errors.MethodNotAllowed, errors.NotAcceptable, errors.AlreadyExists,
        errors.Conflict, errors.Gone, errors.RequestEntityTooLarge,
        errors.UnsupportedMediaType, errors.Invalid, errors.TooManyRequests,
        errors.InternalError, errors.ServiceUnavailable, errors.Timeout,
    )
}
# Upstream reasons that share a class with another: "Gone" is what a 410 says when
# the whole resource is gone rather than a version; "ServerTimeout" is a 500 that
# asks the client to retry.
_BY_REASON["Gone"] = errors.Gone
_BY_REASON["ServerTimeout"] = errors.Timeout

# When the reason is empty or unknown, the code decides (409 without a reason is a
# Conflict; AlreadyExists always says its reason).
_BY_CODE: dict[int, type[errors.StatusError]] = {
    400: errors.BadRequest, 401: errors.Unauthorized, 403: errors.Forbidden,
    404: errors.NotFound, 405: errors.MethodNotAllowed, 406: errors.NotAcceptable,
    409: errors.Conflict, 410: errors.Gone, 413: errors.RequestEntityTooLarge,
    415: errors.UnsupportedMediaType, 422: errors.Invalid, 429: errors.TooManyRequests,
    500: errors.InternalError, 503: errors.ServiceUnavailable, 504: errors.Timeout,
}


def from_status(status: dict[str, Any], http_code: int) -> errors.StatusError:
    """The exception a Status body stands for; `http_code` decides when `reason` is
    missing or unknown (the body's own `code`, when set, wins over the transport's)."""
    code = status.get("code") or http_code
    reason = status.get("reason") or ""
    cls = _BY_REASON.get(reason) or _BY_CODE.get(code)
    if cls is None:
        cls = errors.InternalError if code >= 500 else errors.BadRequest
    details = status.get("details") or {}
    causes = tuple(
        errors.Cause(type=c.get("reason", ""), message=c.get("message", ""),
                     field=c.get("field", ""))
        for c in details.get("causes") or ()
    )
    err = cls(status.get("message") or f"the server responded with code {code}",
              group=details.get("group", ""), kind=details.get("kind", ""),
              name=details.get("name", ""), causes=causes,
              retry_after=int(details.get("retryAfterSeconds") or 0))
    # Keep what the server said even where our class would say otherwise (an unknown
    # reason, a code the class does not carry): callers log and compare these.
    err.status = status  # type: ignore[attr-defined]
    err.http_code = code  # type: ignore[attr-defined]
    return err


def from_body(body: bytes, http_code: int) -> errors.StatusError:
    """The exception for a non-2xx response body, Status or not."""
    try:
        status = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        status = None
    if isinstance(status, dict) and status.get("kind") == "Status":
        return from_status(status, http_code)
    text = body.decode("utf-8", "replace").strip()
    return from_status({"message": text or None}, http_code)
