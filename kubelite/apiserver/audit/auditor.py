"""The audit filter: every request the policy selects leaves events in the audit log
(upstream's endpoints/filters/audit.go and audit/request.go).

Stages, each a line of its own unless the policy omits it:

- RequestReceived: as the request arrives (no annotations, no objects yet);
- ResponseStarted: when a long-running response (a watch) sends its headers;
- ResponseComplete: when the handler is done, with the response's status;
- Panic: instead of ResponseComplete when the handler raised something that is not
  a Kubernetes Status (the client gets a 500).

A request whose credentials were refused gets the single ResponseStarted event of
upstream's failed-authentication filter, with no user.

Every audited response carries the event's ID in its `Audit-Id` header (a client's own
`Audit-ID` request header is kept). Levels: Metadata records who did what to which
object and how it ended; Request adds the request's body (requestObject); and
RequestResponse the response's body (responseObject), for any response that is not a
stream. The authorizer's decision and reason become the event's annotations.

The policy is evaluated once per request, when the user is known (after
authentication, which runs inside the route), so RequestReceived is written at that
point with the arrival time as its timestamps. Without an Auditor the API server does
not call into this module at all.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from kubelite.apiserver.audit.event import (
    DECISION_ANNOTATION,
    REASON_ANNOTATION,
    failed_authentication_message,
    is_status,
    micro_time,
    object_ref,
    response_document,
    response_status,
    source_ips,
    strip_managed_fields,
    user_info,
)
from kubelite.apiserver.audit.log import Sink
from kubelite.apiserver.audit.policy import Level, Policy, RequestAuditConfig
from kubelite.apiserver.auth.attributes import (
    USER,
    Decision,
    non_resource_attributes,
    resource_attributes,
)
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.negotiation import decode_body
from kubelite.apiserver.responses import status_response
from kubelite.apiserver.routing import RequestInfo, parse_resource_path
from kubelite.machinery import errors
from kubelite.machinery.parameters import WATCH

log = logging.getLogger(__name__)

Obj = dict[str, Any]
Route = Callable[[web.Request], Awaitable[web.StreamResponse]]

# What rides on the request: its RequestAudit while auditing, the authorizer's
# (Decision, reason), and for an impersonating request who authenticated and whom it
# acts as (log_impersonated_user).
AUDIT: web.RequestKey[RequestAudit] = web.RequestKey("kubelite.audit")
AUTHORIZATION: web.RequestKey[tuple[Decision, str]] = web.RequestKey("kubelite.authorization")
IMPERSONATION: web.RequestKey[tuple[UserInfo, UserInfo]] = web.RequestKey(
    "kubelite.impersonation")
AUDIT_ID_HEADER = "Audit-Id"
_NOBODY = UserInfo("")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def response_started(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """Called by a long-running handler just before it sends its headers."""
    audit = request.get(AUDIT)
    if audit is not None:
        audit.started(response)


def log_impersonated_user(request: web.BaseRequest, authenticated: UserInfo,
                          impersonated: UserInfo) -> None:
    """The impersonation filter's note, made as it puts `impersonated` in
    request[USER]: the event's `user` (and the policy's user) stays the one who
    authenticated, as upstream audits before impersonating; `impersonatedUser` is the
    one the request acts as."""
    request[IMPERSONATION] = (authenticated, impersonated)


class Auditor:
    def __init__(self, policy: Policy, sink: Sink, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.policy = policy
        self.sink = sink
        self.clock = clock

    def write(self, event: Obj) -> None:
        try:
            self.sink.write(orjson.dumps(event) + b"\n")
        except OSError:
            log.exception("cannot write the audit log")

    def close(self) -> None:
        self.sink.close()

    async def serve(self, request: web.Request, route: Route) -> web.StreamResponse:
        audit = RequestAudit(self, request)
        request[AUDIT] = audit
        try:
            response = await route(request)
        except errors.StatusError as err:
            response = status_response(err)  # as handle() would; now with the header
        except web.HTTPRequestEntityTooLarge:
            await audit.complete(None, 413)
            raise
        except (ConnectionResetError, asyncio.CancelledError):
            audit.closed_early()  # the client went away (a watch it closed)
            raise
        except Exception as exc:
            audit.panic(exc)
            raise
        await audit.complete(response, response.status)
        return response


class RequestAudit:
    """One request's events."""

    __slots__ = ("auditor", "request", "received", "audit_id", "config", "info",
                 "attrs_user", "_received_written", "_received_text", "_started")

    def __init__(self, auditor: Auditor, request: web.Request) -> None:
        self.auditor = auditor
        self.request = request
        self.received = auditor.clock()
        self.audit_id = request.headers.get("Audit-ID") or str(uuid.uuid4())
        self.config: RequestAuditConfig | None = None
        self.info: RequestInfo | None = None
        self.attrs_user: UserInfo | None = None
        self._received_written = False
        self._received_text = ""
        self._started = False

    def _evaluate(self) -> RequestAuditConfig:
        if self.config is not None:
            return self.config
        request = self.request
        path = request.path.rstrip("/") or "/"
        try:
            self.info = parse_resource_path(request.method, path,
                                            watch_param=WATCH.decode(request.query))
        except errors.StatusError:
            self.info = None
        if self.info is not None and self.info.resource == "namespaces" and self.info.name:
            # upstream's RequestInfo: a namespace's own path is in that namespace
            self.info = dataclasses.replace(self.info, namespace=self.info.name)
        impersonation = request.get(IMPERSONATION)
        user = impersonation[0] if impersonation is not None else request.get(USER)
        self.attrs_user = user
        attrs = (resource_attributes(user or _NOBODY, self.info) if self.info is not None
                 else non_resource_attributes(user or _NOBODY, request.method, path))
        self.config = self.auditor.policy.evaluate(attrs, user_known=user is not None)
        return self.config

    def _event(self, config: RequestAuditConfig, stage: str) -> Obj:
        request = self.request
        info = self.info
        event: Obj = {
            "kind": "Event", "apiVersion": "audit.k8s.io/v1",
            "level": config.level.api_name, "auditID": self.audit_id, "stage": stage,
            "requestURI": request.raw_path,
            "verb": info.verb if info is not None else request.method.lower(),
            "user": user_info(self.attrs_user),
        }
        impersonation = request.get(IMPERSONATION)
        if impersonation is not None:
            event["impersonatedUser"] = user_info(impersonation[1])
        event["sourceIPs"] = source_ips(request)
        agent = request.headers.get("User-Agent")
        if agent:
            event["userAgent"] = agent
        if info is not None:
            event["objectRef"] = object_ref(info, None)
        return event

    def _write(self, config: RequestAuditConfig, event: Obj, at: float) -> None:
        if event["stage"] in config.omit_stages:
            return
        annotations = event.pop("annotations", None)  # the last field, as upstream's
        if not self._received_text:
            self._received_text = micro_time(self.received)
        event["requestReceivedTimestamp"] = self._received_text
        event["stageTimestamp"] = micro_time(at)
        if annotations is not None:
            event["annotations"] = annotations
        self.auditor.write(event)

    def _write_received(self, config: RequestAuditConfig) -> None:
        if self._received_written:
            return
        self._received_written = True
        if self.attrs_user is None:
            return  # refused credentials: upstream writes one ResponseStarted only
        self._write(config, self._event(config, "RequestReceived"), self.received)

    def started(self, response: web.StreamResponse) -> None:
        """A long-running response is about to send its headers."""
        response.headers[AUDIT_ID_HEADER] = self.audit_id
        config = self._evaluate()
        if config.level is Level.NONE:
            return
        self._write_received(config)
        self._started = True
        event = self._event(config, "ResponseStarted")
        event["responseStatus"] = response_status(response.status)
        self._annotate(event)
        self._write(config, event, self.auditor.clock())

    async def complete(self, response: web.StreamResponse | None, code: int) -> None:
        if response is not None and not response.prepared:
            response.headers[AUDIT_ID_HEADER] = self.audit_id
        config = self._evaluate()
        if config.level is Level.NONE:
            return
        now = self.auditor.clock()
        if self.attrs_user is None and code == 401:
            self._write_failed_authentication(config, now)
            return
        self._write_received(config)
        body = await self._request_object(config)
        event = self._event(config, "ResponseComplete")
        if self.info is not None and self.info.verb == "create" and isinstance(body, dict):
            event["objectRef"] = object_ref(self.info, body)
        response_body = response_document(response, code, config.level)
        status = response_body if is_status(response_body) else None
        event["responseStatus"] = response_status(code, status)
        if config.level >= Level.REQUEST and body is not None:
            event["requestObject"] = (strip_managed_fields(body)
                                      if config.omit_managed_fields else body)
        if config.level >= Level.REQUEST_RESPONSE and response_body is not None:
            event["responseObject"] = (strip_managed_fields(response_body)
                                       if config.omit_managed_fields else response_body)
        self._annotate(event)
        self._write(config, event, now)

    def closed_early(self) -> None:
        """The client went away: a started watch completes with the status it started
        with; anything else gets upstream's "Connection closed early"."""
        config = self._evaluate()
        if config.level is Level.NONE:
            return
        self._write_received(config)
        event = self._event(config, "ResponseComplete")
        event["responseStatus"] = ({"metadata": {}, "code": 200} if self._started else
                                   {"metadata": {}, "status": "Success",
                                    "message": "Connection closed early", "code": 200})
        self._annotate(event)
        self._write(config, event, self.auditor.clock())

    def panic(self, exc: BaseException) -> None:
        config = self._evaluate()
        if config.level is Level.NONE:
            return
        self._write_received(config)
        now = self.auditor.clock()
        event = self._event(config, "Panic")
        event["responseStatus"] = {"metadata": {}, "status": "Failure",
                                   "message": f"APIServer panic'd: {exc}",
                                   "reason": "InternalError", "code": 500}
        self._annotate(event)
        self._write(config, event, now)

    def _write_failed_authentication(self, config: RequestAuditConfig, at: float) -> None:
        message = failed_authentication_message(self.request)
        event = self._event(config, "ResponseStarted")
        event["responseStatus"] = {"metadata": {}, "message": message, "code": 401}
        self._write(config, event, at)

    def _annotate(self, event: Obj) -> None:
        decided = self.request.get(AUTHORIZATION)
        if decided is None:
            return
        decision, reason = decided
        event["annotations"] = {
            DECISION_ANNOTATION: "allow" if decision is Decision.ALLOW else "forbid",
            REASON_ANNOTATION: reason,
        }

    async def _request_object(self, config: RequestAuditConfig) -> Any:
        """The request's JSON body, when the level or the objectRef needs it."""
        if self.request.method not in _BODY_METHODS:
            return None
        creates = self.info is not None and self.info.verb == "create"
        if config.level < Level.REQUEST and not creates:
            return None
        try:
            raw = await self.request.read()
            # as the handler read it: JSON, YAML or kubectl's protobuf, logged as JSON
            return decode_body(raw, self.request.headers.get("Content-Type", "")) \
                if raw else None
        except (errors.StatusError, web.HTTPException, OSError):
            return None  # a body the handler refused too
