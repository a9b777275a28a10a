"""Resources that are only ever created and never stored: the review APIs
(TokenReview, SelfSubjectReview, SubjectAccessReview, ...) and the subresources that
answer a POST with an object made on the spot (serviceaccounts/token).

Upstream serves these through REST storage that implements only rest.Creater (or
rest.NamedCreater for a subresource) with nothing in etcd behind it. kubelite's
equivalent is a table of CreateOnly entries, each naming where it is served and the
kind it takes and answers, with one `create` coroutine:

    create(request, info, body) -> Created(object, warnings)

The server routes a request to an entry before it looks in the registry. Only a
POST is served (anything else: 405, as upstream, which registers no other verb); the
body must decode as the entry's kind (apiVersion and kind, when given, must be
that kind's); the answer is 201 with the object returned. `request[USER]` says who
asks. An entry that is no subresource shows in discovery like any resource, with
the verb `create` only; a subresource shows under its parent (the catalogue's
subresources and discovery's subresource table), as status or scale do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kubelite.api.catalogue import CUSTOM_GROUP_PRIORITY, GROUP_PRIORITY, GVK, ResourceSpec
from kubelite.apiserver.negotiation import Accept
from kubelite.apiserver.responses import object_response
from kubelite.apiserver.routing import RequestInfo
from kubelite.apiserver.validation import decode_subresource_body
from kubelite.machinery import errors

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Created:
    obj: Obj
    warnings: tuple[str, ...] = ()


Create = Callable[[web.Request, RequestInfo, Obj], Awaitable[Created]]


@dataclass(frozen=True, slots=True)
class CreateOnly:
    """`spec`: where it is served (for a subresource, the parent resource's spec);
    `kind`: the kind posted and answered; `subresource`: "" for a resource."""

    spec: ResourceSpec
    kind: GVK
    create: Create
    subresource: str = ""


def create_only_spec(group: str, version: str, kind: str, plural: str, *,
                     namespaced: bool) -> ResourceSpec:
    """A resource served only by POST, as discovery shows a review API."""
    return ResourceSpec(group, (version,), kind, plural, namespaced=namespaced,
                        verbs=("create",))


class CreateOnlyResources:
    def __init__(self) -> None:
        self._entries: dict[tuple[str, str, str], CreateOnly] = {}

    def add(self, entry: CreateOnly) -> None:
        key = (entry.spec.group, entry.spec.plural, entry.subresource)
        if key in self._entries:
            raise ValueError(f"{entry.spec.group_resource} {entry.subresource} is already served")
        self._entries[key] = entry

    def lookup(self, info: RequestInfo) -> CreateOnly | None:
        entry = self._entries.get((info.group, info.resource, info.subresource))
        if entry is None or info.version not in entry.spec.versions:
            return None
        return entry

    def specs(self) -> list[ResourceSpec]:
        """The resources among them (not the subresources), for discovery."""
        return [e.spec for e in self._entries.values() if not e.subresource]


def _priority(spec: ResourceSpec) -> int:
    if not spec.group:
        return 1 << 30  # the core group comes first
    return GROUP_PRIORITY.get(spec.group, CUSTOM_GROUP_PRIORITY)


def with_create_only(specs: Sequence[ResourceSpec], extra: Sequence[ResourceSpec]
                     ) -> list[ResourceSpec]:
    """`specs` with `extra` merged in: after the resources of their own group, or
    before the first group of lower priority, so /apis keeps upstream's group order."""
    out = list(specs)
    for spec in extra:
        same = [i for i, s in enumerate(out) if s.group == spec.group]
        if same:
            out.insert(same[-1] + 1, spec)
            continue
        lower = next((i for i, s in enumerate(out) if _priority(s) < _priority(spec)),
                     len(out))
        out.insert(lower, spec)
    return out


async def serve(entry: CreateOnly, request: web.Request, info: RequestInfo,
                accept: Accept) -> web.StreamResponse:
    if info.verb != "create":
        raise errors.method_not_allowed()
    if entry.subresource:
        if not info.name:
            raise errors.method_not_allowed()
    elif info.name:
        raise errors.method_not_allowed()
    if bool(info.namespace) != entry.spec.namespaced:
        raise errors.no_such_resource()
    body = decode_subresource_body(await request.read(),
                                   request.headers.get("Content-Type", ""), entry.kind)
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version and api_version != entry.kind.api_version:
        raise errors.BadRequest(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({entry.kind.api_version})")
    if kind and kind != entry.kind.kind:
        raise errors.BadRequest(
            f'{kind} in version "{entry.kind.version}" cannot be handled as a '
            f"{entry.kind.kind}: the kind in the body does not match the endpoint")
    body["apiVersion"], body["kind"] = entry.kind.api_version, entry.kind.kind
    created = await entry.create(request, info, body)
    headers = ({"Warning": ", ".join(f'299 - "{w}"' for w in created.warnings)}
               if created.warnings else None)
    return object_response(created.obj, accept, 201, headers)
