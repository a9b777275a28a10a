"""`/openapi/v3`: an index of group-versions and one OpenAPI 3.0 document for each.

The index maps `api/v1`, `apis/apps/v1`, ... to a `serverRelativeURL` carrying a hash of
that document's content, so clients (kubectl, client-go's openapi3 root) cache a
document until its hash changes. Each document holds the group-version's paths and
only the schemas reachable from them, with refs `#/components/schemas/<name>`.

`kubectl explain` reads these documents: it finds the kind's GVK on an operation of the
resource's path and then the schema whose `x-kubernetes-group-version-kind` lists that
GVK (kubectl/pkg/explain/v2/templates/plaintext.tmpl), so both always carry it.

Documents are built once per resource set and group-version and kept (bounded LRU);
callers must not mutate them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import orjson

from kubelite.api.catalogue import RESOURCES, ResourceSpec, groups
from kubelite.api.openapi import (
    API_RESOURCE_LIST,
    JSON_YAML_PROTOBUF,
    KUBERNETES_VERSION,
    QUERY_PARAMS,
    Operation,
    Schema,
    camel_group,
    content_hash,
    crd_definitions,
    definitions_closure,
    fingerprint,
    gv_path,
    operations,
    path_params,
    render_definitions,
    tag,
)

_REF = "#/components/schemas/"
_CACHE_SIZE = 64
# (fingerprint, group, version) -> (document, JSON bytes, hash)
_cache: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], bytes, str]] = OrderedDict()


def _parameter(name: str, where: str = "query", description: str | None = None,
               required: bool = False) -> dict[str, Any]:
    type_, desc = QUERY_PARAMS.get(name, ("string", ""))
    p: dict[str, Any] = {"name": name, "in": where, "description": description or desc}
    if required:
        p["required"] = True
    p["schema"] = {"type": type_, "uniqueItems": True}
    return p


def _content(definition: str, types: Sequence[str]) -> dict[str, Any]:
    return {t: {"schema": {"$ref": _REF + definition}} for t in sorted(types)}


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"tags": [op.tag], "description": op.description,
                           "operationId": op.operation_id}
    if op.params:
        out["parameters"] = [_parameter(n) for n in op.params]
    if op.body:
        out["requestBody"] = {"content": _content(op.body, op.consumes or ("*/*",)),
                              "required": True}
    responses: dict[str, Any] = {}
    for code, definition in op.responses:
        text = {"200": "OK", "201": "Created", "202": "Accepted"}[code]
        responses[code] = {"description": text}
        if definition:
            responses[code]["content"] = _content(definition, op.produces)
    responses["401"] = {"description": "Unauthorized"}
    out["responses"] = responses
    out["x-kubernetes-action"] = op.action
    out["x-kubernetes-group-version-kind"] = {"group": op.gvk.group, "version": op.gvk.version,
                                              "kind": op.gvk.kind}
    return out


def build(group: str, version: str, resources: Sequence[ResourceSpec]) -> dict[str, Any]:
    """Build one group-version document (uncached; `openapi_v3_document` caches)."""
    served = [r for r in resources if r.group == group and version in r.versions]
    if not served:
        raise LookupError(f"{gv_path(group, version)} is not served")
    prefix = "/" + gv_path(group, version)
    paths: dict[str, dict[str, Any]] = {prefix + "/": {"get": {
        "tags": [tag(group, version)], "description": "get available resources",
        "operationId": f"get{camel_group(group)}{version.capitalize()}APIResources",
        "responses": {"200": {"description": "OK",
                              "content": _content(API_RESOURCE_LIST, JSON_YAML_PROTOBUF)},
                      "401": {"description": "Unauthorized"}}}}}
    roots: set[str] = {API_RESOURCE_LIST}
    extra: dict[str, Schema] = {}
    for resource in served:
        if resource.crd_schemas is not None:
            extra.update(crd_definitions(resource, version))
        for op in operations(resource, version):
            item = paths.setdefault(op.path, {})
            item[op.method] = _operation(op)
            item["parameters"] = [_parameter(n, w, d, r)
                                  for n, w, d, r in path_params(op.path, resource.kind)]
            roots.update(d for _, d in op.responses if d)
            if op.body:
                roots.add(op.body)
    names = definitions_closure(roots, extra)
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": render_definitions(names, extra, v3=True),
            "securitySchemes": {"BearerToken": {
                "type": "apiKey", "description": "Bearer Token authentication",
                "name": "authorization", "in": "header"}},
        },
        "security": [{"BearerToken": []}],
    }


def _cached(group: str, version: str,
            resources: Sequence[ResourceSpec]) -> tuple[dict[str, Any], bytes, str]:
    key = (fingerprint(resources), group, version)
    hit = _cache.get(key)
    if hit is None:
        doc = build(group, version, resources)
        hit = (doc, orjson.dumps(doc), content_hash(doc))
        _cache[key] = hit
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return hit


def openapi_v3_document(group: str, version: str,
                        resources: Sequence[ResourceSpec] = RESOURCES) -> dict[str, Any]:
    """The OpenAPI 3.0 document of one group-version (cached; do not mutate).
    Raises LookupError if no resource is served there."""
    return _cached(group, version, resources)[0]


def openapi_v3_json(group: str, version: str,
                    resources: Sequence[ResourceSpec] = RESOURCES) -> bytes:
    """The same document serialized as JSON (cached)."""
    return _cached(group, version, resources)[1]


def openapi_v3_hash(group: str, version: str,
                    resources: Sequence[ResourceSpec] = RESOURCES) -> str:
    """The content hash the index advertises for that document."""
    return _cached(group, version, resources)[2]


def parse_path(path: str) -> tuple[str, str] | None:
    """`api/v1` -> ("", "v1"); `apis/apps/v1` -> ("apps", "v1"); anything else None.
    For the server's `/openapi/v3/<path>` route."""
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return "", parts[1]
    if len(parts) == 3 and parts[0] == "apis":
        return parts[1], parts[2]
    return None


def openapi_v3_index(resources: Sequence[ResourceSpec] = RESOURCES) -> dict[str, Any]:
    """`/openapi/v3`: {"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}}}."""
    paths: dict[str, Any] = {}
    for group, versions in groups(resources):
        for version in versions:
            path = gv_path(group, version)
            digest = openapi_v3_hash(group, version, resources)
            paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": dict(sorted(paths.items()))}
