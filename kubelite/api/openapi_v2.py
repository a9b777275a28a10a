"""`/openapi/v2`: the swagger 2.0 document of every served resource.

One document holds every path and every definition reachable from them, as
kube-apiserver's does. It is large (megabytes), so it is built once per resource set
and kept: `openapi_v2` returns the cached dict, `openapi_v2_json` its cached bytes, and
`served_forms` the record /openapi/v2 answers from. The resource set is the cache key,
so adding a CustomResourceDefinition (or changing its schema) makes a new document.
Callers must not mutate what they get.

Like kube-openapi's handler, the JSON and the protobuf are one spec in two forms with
one ETag: the upper-case hex SHA-512 of the JSON bytes (clients tell the forms apart by
`Vary: Accept`). The protobuf and the gzipped bodies cost time and memory, and most
clients only ever ask for one form, so each is made on its first request and kept with
the document.
"""

from __future__ import annotations

import gzip
import hashlib
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from kubelite.api.catalogue import RESOURCES, ResourceSpec
from kubelite.api.openapi import (
    QUERY_PARAMS,
    KUBERNETES_VERSION,
    Operation,
    Schema,
    definitions_closure,
    fingerprint,
    operations,
    path_params,
    render_definitions,
)
from kubelite.api.openapi_v2_crd import crd_definitions_v2
from kubelite.api.openapi_v2_protobuf import encode_document

_CACHE_SIZE = 4
_GZIP_LEVEL = 6  # Go's gzip.DefaultCompression, which upstream's handler uses


@dataclass(slots=True)
class Forms:
    """One built document and the bodies it is served as."""

    document: dict[str, Any]
    json: bytes
    etag: str  # unquoted; the same for every form
    built_at: float  # seconds since the epoch: the Last-Modified of every form
    _bodies: dict[tuple[bool, bool], bytes] = field(default_factory=dict)

    @classmethod
    def of(cls, document: dict[str, Any]) -> Forms:
        body = orjson.dumps(document)
        return cls(document, body, hashlib.sha512(body).hexdigest().upper(), time.time())

    def body(self, *, protobuf: bool, gzipped: bool) -> bytes:
        """The JSON or gnostic protobuf bytes, gzipped or not (made once each)."""
        key = (protobuf, gzipped)
        out = self._bodies.get(key)
        if out is None:
            if gzipped:
                out = gzip.compress(self.body(protobuf=protobuf, gzipped=False),
                                    compresslevel=_GZIP_LEVEL, mtime=0)
            else:
                out = encode_document(self.document) if protobuf else self.json
            self._bodies[key] = out
        return out


_cache: OrderedDict[tuple[Any, ...], Forms] = OrderedDict()


def _parameter(name: str, where: str = "query", description: str | None = None,
               required: bool = False) -> dict[str, Any]:
    type_, desc = QUERY_PARAMS.get(name, ("string", ""))
    p: dict[str, Any] = {"uniqueItems": True, "type": type_, "description": description or desc,
                         "name": name, "in": where}
    if required:
        p["required"] = True
    return p


def _operation(op: Operation) -> dict[str, Any]:
    params = [_parameter(n) for n in op.params]
    if op.body:
        params.insert(0, {"name": "body", "in": "body", "required": True,
                          "schema": {"$ref": "#/definitions/" + op.body}})
    out: dict[str, Any] = {
        "description": op.description,
        "consumes": list(op.consumes) or ["*/*"],
        "produces": list(op.produces),
        "schemes": ["https"],
        "tags": [op.tag],
        "operationId": op.operation_id,
    }
    if params:
        out["parameters"] = params
    responses: dict[str, Any] = {}
    for code, definition in op.responses:
        text = {"200": "OK", "201": "Created", "202": "Accepted"}[code]
        responses[code] = {"description": text, "schema": {"$ref": "#/definitions/" + definition}} \
            if definition else {"description": text}
    responses["401"] = {"description": "Unauthorized"}
    out["responses"] = responses
    out["x-kubernetes-action"] = op.action
    out["x-kubernetes-group-version-kind"] = {"group": op.gvk.group, "kind": op.gvk.kind,
                                              "version": op.gvk.version}
    return out


def build(resources: Sequence[ResourceSpec]) -> dict[str, Any]:
    """Build the document (uncached; `openapi_v2` caches)."""
    paths: dict[str, dict[str, Any]] = {}
    extra: dict[str, Schema] = {}
    roots: set[str] = set()
    for resource in resources:
        for version in resource.versions:
            if resource.crd_schemas is not None:
                extra.update(crd_definitions_v2(resource, version))
            for op in operations(resource, version):
                item = paths.setdefault(op.path, {})
                if "parameters" not in item:
                    item["parameters"] = [_parameter(n, w, d, r)
                                          for n, w, d, r in path_params(op.path, resource.kind)]
                item[op.method] = _operation(op)
                roots.update(d for _, d in op.responses if d)
                if op.body:
                    roots.add(op.body)
    names = definitions_closure(roots, extra)
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": dict(sorted(paths.items())),
        "definitions": render_definitions(names, extra, v3=False),
        "securityDefinitions": {"BearerToken": {
            "description": "Bearer Token authentication", "type": "apiKey",
            "name": "authorization", "in": "header"}},
        "security": [{"BearerToken": []}],
    }


def served_forms(resources: Sequence[ResourceSpec] = RESOURCES) -> Forms:
    """The document for `resources` with its served forms (cached; do not mutate)."""
    key = fingerprint(resources)
    hit = _cache.get(key)
    if hit is None:
        hit = _cache[key] = Forms.of(build(resources))
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return hit


def openapi_v2(resources: Sequence[ResourceSpec] = RESOURCES) -> dict[str, Any]:
    """The swagger 2.0 document for `resources` (cached; do not mutate)."""
    return served_forms(resources).document


def openapi_v2_json(resources: Sequence[ResourceSpec] = RESOURCES) -> bytes:
    """The same document serialized as JSON (cached)."""
    return served_forms(resources).json
