"""The parts of an audit.k8s.io/v1 Event, as upstream serializes them.

    {"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",
     "auditID":"5f0c...","stage":"ResponseComplete",
     "requestURI":"/api/v1/namespaces/default/secrets","verb":"create",
     "user":{"username":"jane","groups":["dev","system:authenticated"]},
     "sourceIPs":["127.0.0.1"],"userAgent":"kubectl/v1.34.0",
     "objectRef":{"resource":"secrets","namespace":"default","name":"db","apiVersion":"v1"},
     "responseStatus":{"metadata":{},"code":201},
     "requestReceivedTimestamp":"2026-12-07T21:40:55.123456Z",
     "stageTimestamp":"2026-12-07T21:40:55.125012Z",
     "annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":""}}

Fields keep upstream's order and omit what upstream omits when empty. Timestamps are
MicroTime (RFC 3339 with microseconds, UTC).
"""

from __future__ import annotations

import datetime
from typing import Any

import orjson
from aiohttp import web

from kubelite.api import protobuf
from kubelite.apiserver.audit.policy import Level
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.list_stream import StreamedList
from kubelite.apiserver.routing import RequestInfo

Obj = dict[str, Any]

DECISION_ANNOTATION = "authorization.k8s.io/decision"
REASON_ANNOTATION = "authorization.k8s.io/reason"


def micro_time(at: float) -> str:
    # isoformat is several times quicker than strftime; "+00:00" becomes "Z"
    return datetime.datetime.fromtimestamp(at, datetime.UTC).isoformat(
        timespec="microseconds")[:-6] + "Z"


def user_info(user: UserInfo | None) -> Obj:
    if user is None:
        return {}
    out: Obj = {"username": user.name}
    if user.uid:
        out["uid"] = user.uid
    if user.groups:
        out["groups"] = list(user.groups)
    if user.extra:
        out["extra"] = {k: list(v) for k, v in user.extra.items()}
    return out


def object_ref(info: RequestInfo, body: Obj | None) -> Obj:
    """The request's object, as the path names it; a create's name and namespace
    come from the body (upstream's LogRequestObject fills what the path lacks)."""
    namespace, name = info.namespace, info.name
    meta = body.get("metadata") if isinstance(body, dict) else None
    if isinstance(meta, dict):
        namespace = namespace or str(meta.get("namespace") or "")
        name = name or str(meta.get("name") or "")
    ref: Obj = {"resource": info.resource}
    if namespace:
        ref["namespace"] = namespace
    if name:
        ref["name"] = name
    if info.group:
        ref["apiGroup"] = info.group
    ref["apiVersion"] = info.version
    if info.subresource:
        ref["subresource"] = info.subresource
    return ref


def source_ips(request: web.BaseRequest) -> list[str]:
    """X-Forwarded-For, then X-Real-Ip, then the peer (utilnet.SourceIPs)."""
    ips: list[str] = []
    forwarded = request.headers.get("X-Forwarded-For")
    if forwarded:
        ips += [ip.strip() for ip in forwarded.split(",") if ip.strip()]
    for ip in (request.headers.get("X-Real-Ip"), request.remote):
        if ip and ip not in ips:
            ips.append(ip)
    return ips


def response_status(code: int, status: Obj | None = None) -> Obj:
    """The bounded copy of a Status upstream keeps (status, message, reason,
    details), with the code the client got."""
    out: Obj = {"metadata": {}}
    if status:
        for field in ("status", "message", "reason", "details"):
            if status.get(field):
                out[field] = status[field]
    out["code"] = code
    return out


def strip_managed_fields(obj: Any) -> Any:
    """The object (or list) without metadata.managedFields, for omitManagedFields."""
    if not isinstance(obj, dict):
        return obj
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    items = obj.get("items")
    if isinstance(items, list):
        obj = {**obj, "items": [strip_managed_fields(item) for item in items]}
    return obj


def response_document(response: web.StreamResponse | None, code: int, level: Level) -> Any:
    """The response's JSON document when the level records it, or when it is a
    Status (its reason and message go into responseStatus); None for a stream."""
    wants_object = level >= Level.REQUEST_RESPONSE
    raw: Any
    if isinstance(response, StreamedList):
        if not wants_object:
            return None
        raw = response.whole_body()
    elif isinstance(response, web.Response):
        raw = response.body
        if not (wants_object or code >= 300 or looks_like_status(raw)):
            return None
    else:
        return None
    if not isinstance(raw, (bytes, bytearray)) or not raw:
        return None
    try:
        if raw.startswith(protobuf.MAGIC):  # kubectl asks for built-in kinds in protobuf
            return protobuf.decode_object(bytes(raw))
        return orjson.loads(raw)
    except (orjson.JSONDecodeError, protobuf.DecodeError):
        return None


def looks_like_status(body: Any) -> bool:
    return isinstance(body, (bytes, bytearray)) and b'"kind":"Status"' in body[:32]


def is_status(body: Any) -> bool:
    return isinstance(body, dict) and body.get("kind") == "Status"


def failed_authentication_message(request: web.BaseRequest) -> str:
    """What upstream's failed-authentication audit says was tried."""
    methods = []
    if request.transport is not None and request.transport.get_extra_info("peercert"):
        methods.append("x509")
    scheme = request.headers.get("Authorization", "").split(" ", 1)[0].lower()
    if scheme in ("basic", "bearer"):
        methods.append(scheme)
    if not methods:
        return "Authentication failed, no credentials provided"
    return "Authentication failed, attempted: " + ", ".join(methods)
