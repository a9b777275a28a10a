"""Resources that are only ever created and never stored: the reviews.

A SubjectAccessReview (or TokenReview, ...) is a question put as a POST: the server
answers with the same object, its `status` filled in, and keeps nothing (upstream's
rest.Creater without a store, e.g. pkg/registry/authorization/subjectaccessreview).
Such a resource has only the `create` verb and no name; a GET, a PUT or a watch of it
is 405 MethodNotAllowed, as upstream answers.

`CreateOnlyGroup` serves the create-only resources of one group-version as an
in-process aggregated API (aggregation.py): discovery lists them with the `create` verb,
an APIService marks the group-version as Local, and each request is handed here
unchanged, with the authenticated user on `request[USER]`. A resource is its spec and
an `answer(request, namespace, body) -> object` coroutine; the body has been decoded
(JSON, YAML or protobuf), and its apiVersion and kind checked against the endpoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kubelite.api.catalogue import CUSTOM_GROUP_PRIORITY, GROUP_PRIORITY, ResourceSpec
from kubelite.apiserver.negotiation import decode_body, encode, parse_accept
from kubelite.apiserver.routing import parse_resource_path
from kubelite.machinery import errors

Obj = dict[str, Any]
Answer = Callable[[web.Request, str, Obj], Awaitable[Obj]]


@dataclass(frozen=True)
class CreateOnlyResource:
    spec: ResourceSpec
    answer: Answer


def create_only_spec(group: str, version: str, kind: str, plural: str, *,
                     namespaced: bool = False) -> ResourceSpec:
    return ResourceSpec(group, (version,), kind, plural, namespaced=namespaced,
                        verbs=("create",))


class CreateOnlyGroup:
    """One group-version of create-only resources (an aggregation.AggregatedAPI)."""

    version_priority = 15

    def __init__(self, group: str, version: str,
                 resources: Sequence[CreateOnlyResource]) -> None:
        self.group = group
        self.version = version
        self._by_plural = {r.spec.plural: r for r in resources}
        self.resources = tuple(r.spec for r in resources)
        self.group_priority_minimum = GROUP_PRIORITY.get(group, CUSTOM_GROUP_PRIORITY)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        info = parse_resource_path(request.method, request.path.rstrip("/"),
                                   watch_param=False)
        resource = self._by_plural.get(info.resource) if info is not None else None
        if info is None or resource is None:
            raise errors.no_such_resource()
        spec = resource.spec
        if info.namespace and not spec.namespaced:
            raise errors.no_such_resource()
        if info.verb != "create" or info.name or info.subresource:
            raise errors.method_not_allowed()
        body = decode_body(await request.read(), request.headers.get("Content-Type", ""))
        if not isinstance(body, dict):
            raise errors.BadRequest("the object provided is unrecognized or malformed: "
                                    "expected a JSON object")
        expected = spec.gvk(self.version).api_version
        if body.get("apiVersion", expected) != expected or body.get("kind", spec.kind) != spec.kind:
            raise errors.BadRequest(
                f'{body.get("kind")} in version "{self.version}" cannot be handled as a '
                f"{spec.kind}: the kind in the body does not match the endpoint")
        body["apiVersion"], body["kind"] = expected, spec.kind
        answer = await resource.answer(request, info.namespace, body)
        payload, content_type = encode(answer, parse_accept(request.headers.get("Accept", "")))
        return web.Response(body=payload, status=201, content_type=content_type)
