"""authorization.k8s.io/v1: asking the authorizer through the API (upstream's
pkg/registry/authorization/*).

- SubjectAccessReview: may this user (spec.user, groups, uid, extra) do this? Asked
  by components that authorize on the API server's behalf.
- SelfSubjectAccessReview: may I? (`kubectl auth can-i`).
- LocalSubjectAccessReview: a SubjectAccessReview confined to one namespace (for
  namespace admins).
- SelfSubjectRulesReview: what may I do in this namespace? (`kubectl auth can-i --list`).

Each answers its object with `status` filled in and stores nothing (create_only.py).
The decision is the server's own authorizer's, so a review says exactly what a
request would meet: `allowed` when it allows, `denied` when it denies outright, the
authorizer's reason either way. Rules come from the rule resolver (RBAC's rules_for).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web

from kubelite.apiserver.auth.attributes import USER, Attributes, Authorizer, Decision
from kubelite.apiserver.auth.rbac.authorizer import ResolvedRules
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.create_only import CreateOnly, Created, create_only_spec
from kubelite.apiserver.routing import RequestInfo
from kubelite.machinery import errors
from kubelite.machinery.validation import field_invalid

Obj = dict[str, Any]
GROUP = "authorization.k8s.io"
VERSION = "v1"
Answer = Callable[[web.Request, str, Obj], Awaitable[Obj]]  # (request, namespace, body)


class RuleResolver(Protocol):
    def rules_for(self, user: UserInfo, namespace: str) -> ResolvedRules: ...


def _attributes(user: UserInfo, spec: Obj) -> Attributes:
    resource = spec.get("resourceAttributes")
    if isinstance(resource, dict):
        return Attributes(user=user, verb=str(resource.get("verb") or ""),
                          resource_request=True,
                          namespace=str(resource.get("namespace") or ""),
                          api_group=str(resource.get("group") or ""),
                          api_version=str(resource.get("version") or ""),
                          resource=str(resource.get("resource") or ""),
                          subresource=str(resource.get("subresource") or ""),
                          name=str(resource.get("name") or ""))
    other = spec.get("nonResourceAttributes") or {}
    return Attributes(user=user, verb=str(other.get("verb") or ""), resource_request=False,
                      path=str(other.get("path") or ""))


def _spec_causes(spec: Obj, *, needs_subject: bool) -> list[errors.Cause]:
    """ValidateSubjectAccessReviewSpec (and the self review's part of it)."""
    causes = []
    resource, other = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if resource is not None and other is not None:
        causes.append(field_invalid("spec.nonResourceAttributes", other,
                                    "cannot be specified in combination with resourceAttributes"))
    if resource is None and other is None:
        causes.append(field_invalid("spec.resourceAttributes", None,
                                    "exactly one of nonResourceAttributes or "
                                    "resourceAttributes must be specified"))
    if needs_subject and not spec.get("user") and not spec.get("groups"):
        causes.append(field_invalid("spec.user", spec.get("user") or "",
                                    "at least one of user or group must be specified"))
    return causes


def _subject(spec: Obj) -> UserInfo:
    extra = spec.get("extra") or {}
    return UserInfo(str(spec.get("user") or ""), uid=str(spec.get("uid") or ""),
                    groups=tuple(str(g) for g in spec.get("groups") or ()),
                    extra={str(k): tuple(str(x) for x in v or ())
                           for k, v in extra.items()} if isinstance(extra, dict) else {})


def _requester(request: web.Request) -> UserInfo:
    user = request.get(USER)
    if not isinstance(user, UserInfo):
        raise errors.BadRequest("no user present on request")
    return user


def _spec(body: Obj) -> Obj:
    spec = body.get("spec")
    if spec is None:
        return {}
    if not isinstance(spec, dict):
        raise errors.BadRequest("spec must be an object")
    return spec


class Reviews:
    def __init__(self, authorizer: Authorizer, resolver: RuleResolver) -> None:
        self.authorizer = authorizer
        self.resolver = resolver

    def endpoints(self) -> list[CreateOnly]:
        """The authorization.k8s.io/v1 reviews, for APIServer.create_only."""
        def entry(kind: str, plural: str, answer: Answer, namespaced: bool = False
                  ) -> CreateOnly:
            async def create(request: web.Request, info: RequestInfo, body: Obj) -> Created:
                return Created(await answer(request, info.namespace, body))
            spec = create_only_spec(GROUP, VERSION, kind, plural, namespaced=namespaced)
            return CreateOnly(spec=spec, kind=spec.gvk(VERSION), create=create)
        return [
            entry("LocalSubjectAccessReview", "localsubjectaccessreviews",
                  self.local_subject_access_review, namespaced=True),
            entry("SelfSubjectAccessReview", "selfsubjectaccessreviews",
                  self.self_subject_access_review),
            entry("SelfSubjectRulesReview", "selfsubjectrulesreviews",
                  self.self_subject_rules_review),
            entry("SubjectAccessReview", "subjectaccessreviews", self.subject_access_review),
        ]

    async def _decide(self, body: Obj, attrs: Attributes) -> Obj:
        decision, reason = await self.authorizer.authorize(attrs)
        status: Obj = {"allowed": decision is Decision.ALLOW}
        if decision is Decision.DENY:
            status["denied"] = True
        if reason:
            status["reason"] = reason
        body["status"] = status
        return body

    async def subject_access_review(self, request: web.Request, namespace: str,
                                    body: Obj) -> Obj:
        spec = _spec(body)
        causes = _spec_causes(spec, needs_subject=True)
        if causes:
            raise errors.invalid(GROUP, "SubjectAccessReview", "", causes)
        return await self._decide(body, _attributes(_subject(spec), spec))

    async def local_subject_access_review(self, request: web.Request, namespace: str,
                                          body: Obj) -> Obj:
        meta = body.setdefault("metadata", {})
        if meta.get("namespace", namespace) != namespace:
            raise errors.BadRequest("the namespace of the provided object does not match "
                                    "the namespace sent on the request")
        meta["namespace"] = namespace
        spec = _spec(body)
        causes = _spec_causes(spec, needs_subject=True)
        resource = spec.get("resourceAttributes")
        if isinstance(resource, dict) and (resource.get("namespace") or "") != namespace:
            causes.append(field_invalid("spec.resourceAttributes.namespace",
                                        resource.get("namespace") or "",
                                        "must match metadata.namespace"))
        if spec.get("nonResourceAttributes") is not None:
            causes.append(field_invalid("spec.nonResourceAttributes",
                                        spec["nonResourceAttributes"],
                                        "disallowed on this kind of request"))
        if causes:
            raise errors.invalid(GROUP, "LocalSubjectAccessReview", "", causes)
        return await self._decide(body, _attributes(_subject(spec), spec))

    async def self_subject_access_review(self, request: web.Request, namespace: str,
                                         body: Obj) -> Obj:
        spec = _spec(body)
        causes = _spec_causes(spec, needs_subject=False)
        if causes:
            raise errors.invalid(GROUP, "SelfSubjectAccessReview", "", causes)
        return await self._decide(body, _attributes(_requester(request), spec))

    async def self_subject_rules_review(self, request: web.Request, namespace: str,
                                        body: Obj) -> Obj:
        user = _requester(request)
        wanted = str(_spec(body).get("namespace") or "")
        if not wanted:
            raise errors.BadRequest("no namespace on request")
        resolved = self.resolver.rules_for(user, wanted)
        status: Obj = {"resourceRules": [], "nonResourceRules": [], "incomplete": False}
        for rule in resolved.rules:
            if rule.resources:
                entry: Obj = {"verbs": list(rule.verbs), "apiGroups": list(rule.api_groups),
                              "resources": list(rule.resources)}
                if rule.resource_names:
                    entry["resourceNames"] = list(rule.resource_names)
                status["resourceRules"].append(entry)
            if rule.non_resource_urls:
                status["nonResourceRules"].append(
                    {"verbs": list(rule.verbs), "nonResourceURLs": list(rule.non_resource_urls)})
        if resolved.errors:
            unique = list(dict.fromkeys(resolved.errors))
            status["evaluationError"] = (unique[0] if len(unique) == 1
                                         else "[" + ", ".join(unique) + "]")
        return {"apiVersion": body["apiVersion"], "kind": body["kind"],
                "metadata": {"creationTimestamp": None}, "spec": {}, "status": status}
