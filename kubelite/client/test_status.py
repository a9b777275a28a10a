from __future__ import annotations

import orjson
import pytest

from kubelite.client.status import from_body, from_status
from kubelite.client.watch import is_initial_events_end, parse_event
from kubelite.client.transport import TransportError
from kubelite.machinery import errors


@pytest.mark.parametrize(("status", "code", "cls"), [
    ({"reason": "NotFound", "code": 404}, 404, errors.NotFound),
    ({"reason": "AlreadyExists", "code": 409}, 409, errors.AlreadyExists),
    ({"reason": "Conflict", "code": 409}, 409, errors.Conflict),
    ({"reason": "Invalid", "code": 422}, 422, errors.Invalid),
    ({"reason": "Expired", "code": 410}, 410, errors.Gone),
    ({"reason": "Gone", "code": 410}, 410, errors.Gone),
    ({"reason": "TooManyRequests", "code": 429}, 429, errors.TooManyRequests),
    ({"code": 409}, 409, errors.Conflict),
    ({"reason": "SomethingNew"}, 403, errors.Forbidden),
    ({}, 418, errors.BadRequest),
    ({}, 502, errors.InternalError),
], ids=["not-found", "already-exists", "conflict", "invalid", "expired", "gone",
        "too-many", "code-only", "unknown-reason", "unknown-4xx", "unknown-5xx"])
def test_from_status_picks_class_by_reason_then_code(status: dict, code: int,
                                                     cls: type) -> None:
    err = from_status({"kind": "Status", "message": "m", **status}, code)
    assert type(err) is cls
    assert err.message == "m"


def test_from_status_keeps_details_and_causes() -> None:
    err = errors.invalid("", "ConfigMap", "x", [errors.Cause("FieldValueInvalid", "bad",
                                                             "metadata.name")])
    back = from_status(err.to_status(), 422)
    assert isinstance(back, errors.Invalid)
    assert (back.kind, back.name, back.causes) == ("ConfigMap", "x", err.causes)
    assert back.message == err.message


@pytest.mark.parametrize(("body", "code", "cls", "message"), [
    (b"<html>bad gateway</html>", 502, errors.InternalError, "<html>bad gateway</html>"),
    (b"", 404, errors.NotFound, "the server responded with code 404"),
    (b'{"kind":"Status","reason":"NotFound","message":"pods \\"x\\" not found"}', 404,
     errors.NotFound, 'pods "x" not found'),
], ids=["html", "empty", "status"])
def test_from_body_handles_non_status_bodies(body: bytes, code: int, cls: type,
                                             message: str) -> None:
    err = from_body(body, code)
    assert type(err) is cls and err.message == message


def test_parse_event_raises_gone_for_an_expired_error_event() -> None:
    line = orjson.dumps({"type": "ERROR", "object": errors.Gone("too old").to_status()})
    with pytest.raises(errors.Gone):
        parse_event(line)


@pytest.mark.parametrize("line", [b"not json", b'{"type":"NOPE","object":{}}',
                                  b'{"type":"ADDED"}', b"[1]"],
                         ids=["not-json", "unknown-type", "no-object", "not-an-object"])
def test_parse_event_rejects_malformed_lines(line: bytes) -> None:
    with pytest.raises(TransportError):
        parse_event(line)


def test_bookmark_end_of_initial_events_is_recognised() -> None:
    type_, obj = parse_event(b'{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7",'
                             b'"annotations":{"k8s.io/initial-events-end":"true"}}}}')
    assert type_ == "BOOKMARK" and is_initial_events_end(obj)
    assert not is_initial_events_end({"metadata": {"resourceVersion": "8"}})
