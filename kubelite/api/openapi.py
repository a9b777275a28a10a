"""What the OpenAPI documents share: schema conversion, resource paths, operations.

kube-apiserver publishes the same API twice: `/openapi/v2` (one swagger 2.0 document)
and `/openapi/v3/<api/v1|apis/group/version>` (one OpenAPI 3.0 document per
group-version). Both are generated here from the pinned type definitions
(`kubelite.api.schemas`, JSON Schema with `#/$defs/` refs and nullable type lists) and
from the resource catalogue; `openapi_v2.py` and `openapi_v3.py` only render.

Guarantees:
- Every operation upstream's generator emits for a resource exists with upstream's
  path, operationId (`listCoreV1NamespacedPod`), `x-kubernetes-action` and
  `x-kubernetes-group-version-kind`; every write carries `fieldValidation`, so kubectl
  picks server-side validation (cli-runtime's query-param verifier looks for it on the
  PATCH operation of the kind).
- Schemas keep every `x-kubernetes-*` extension and are cut down to what OpenAPI
  allows: one `type`, no `null`, IntOrString and Quantity spelt as upstream spells them.
- Custom resources (`ResourceSpec.crd_schemas`) get a kind and a list definition named
  as upstream names them (`com.example.stable.v1.CronTab`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from kubelite.api import schemas
from kubelite.api.catalogue import GVK, ResourceSpec
from kubelite.machinery.delete_options import DeleteOptions
from kubelite.machinery.options import (
    CreateOptions,
    ListOptions,
    Options,
    PatchOptions,
    UpdateOptions,
)
from kubelite.machinery.parameters import PARAMETERS

Schema = dict[str, Any]

KUBERNETES_VERSION = f"v{schemas.KUBERNETES_VERSION}"
META = schemas.META
STATUS = META + "Status"
DELETE_OPTIONS = META + "DeleteOptions"
PATCH = META + "Patch"
WATCH_EVENT = META + "WatchEvent"
API_RESOURCE_LIST = META + "APIResourceList"
OBJECT_META = schemas.OBJECT_META
LIST_META = schemas.LIST_META
SCALE = "io.k8s.api.autoscaling.v1.Scale"
BINDING = "io.k8s.api.core.v1.Binding"
INT_OR_STRING = schemas.INT_OR_STRING
QUANTITY = schemas.QUANTITY

JSON_YAML_PROTOBUF = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
STREAMS = ("application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json",
               "application/merge-patch+json", "application/strategic-merge-patch+json")

# name -> (type, description): the query parameters, from the very rows the API server
# decodes them with, so a document never advertises a parameter the server ignores.
QUERY_PARAMS: dict[str, tuple[str, str]] = {
    p.name: (p.codec.openapi_type, p.description) for p in PARAMETERS.values()}


def _names(options: type[Options]) -> tuple[str, ...]:
    return tuple(p.name for p in options.parameters())


_LIST = _names(ListOptions)
_WRITE = _names(CreateOptions)
_UPDATE = _names(UpdateOptions)
_PATCH = _names(PatchOptions)
_DELETE = _names(DeleteOptions)
# Upstream's deletecollection takes ListOptions to pick the objects, but not its watch
# parameters.
_DELETE_COLLECTION = tuple(sorted(set(_DELETE) | set(_LIST) - {"watch", "allowWatchBookmarks"}))


@dataclass(frozen=True, slots=True)
class Operation:
    """One HTTP operation, rendered by both the v2 and the v3 documents."""

    path: str
    method: str  # get, post, put, patch, delete
    operation_id: str
    description: str
    action: str  # x-kubernetes-action
    gvk: GVK
    tag: str
    params: tuple[str, ...]  # query parameter names (QUERY_PARAMS)
    body: str | None  # definition name of the request body
    consumes: tuple[str, ...]
    responses: tuple[tuple[str, str | None], ...]  # (HTTP code, definition name)
    produces: tuple[str, ...]


# --- names ---------------------------------------------------------------------------

def camel_group(group: str) -> str:
    """`rbac.authorization.k8s.io` -> `RbacAuthorization`, "" -> `Core`, as upstream's
    operationIds spell a group."""
    if not group:
        return "Core"
    group = group.removesuffix(".k8s.io")
    return "".join(p[:1].upper() + p[1:] for p in group.replace("-", ".").split(".") if p)


def tag(group: str, version: str) -> str:
    g = camel_group(group)
    return f"{g[:1].lower()}{g[1:]}_{version}"


def gv_path(group: str, version: str) -> str:
    """`api/v1`, `apis/apps/v1`: a group-version's URL path without the leading slash."""
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def crd_definition_name(group: str, version: str, kind: str) -> str:
    """Upstream names a custom kind by its reversed group: `com.example.stable.v1.CronTab`."""
    return ".".join([*reversed(group.split(".")), version, kind])


def definition_name(resource: ResourceSpec, version: str, kind: str | None = None) -> str:
    kind = kind or resource.kind
    if resource.crd_schemas is not None:
        return crd_definition_name(resource.group, version, kind)
    name = schemas.definition_name(GVK(resource.group, version, kind))
    if name is None:
        raise LookupError(f"no schema for {resource.group}/{version} {kind}")
    return name


# --- operations ----------------------------------------------------------------------

_SUB_GVK = {"scale": GVK("autoscaling", "v1", "Scale"), "binding": GVK("", "v1", "Binding"),
            "eviction": GVK("policy", "v1", "Eviction"),
            "token": GVK("authentication.k8s.io", "v1", "TokenRequest")}
_SUB_DEF = {"scale": SCALE, "binding": BINDING, "eviction": "io.k8s.api.policy.v1.Eviction",
            "token": "io.k8s.api.authentication.v1.TokenRequest"}
# Subresources served only by POST (a create of another kind), as upstream publishes them.
_CREATE_ONLY_SUBRESOURCES = frozenset({"binding", "eviction", "token"})


def operations(resource: ResourceSpec, version: str) -> Iterator[Operation]:
    """Every operation upstream publishes for `resource` at `version`, paths included."""
    g, v, kind = camel_group(resource.group), version.capitalize(), resource.kind
    t = tag(resource.group, version)
    gvk = GVK(resource.group, version, kind)
    obj = definition_name(resource, version)
    # a create-only resource (a review API) has no list kind
    lst = (definition_name(resource, version, resource.list_kind)
           if {"list", "watch"} & set(resource.verbs) else "")
    crd = resource.crd_schemas is not None
    produces = JSON_YAML_PROTOBUF[:2] if crd else JSON_YAML_PROTOBUF
    streams = STREAMS[:1] if crd else STREAMS
    patch_types = PATCH_TYPES[:3] if crd else PATCH_TYPES
    verbs = set(resource.verbs)
    prefix = "/" + gv_path(resource.group, version)
    ns = "Namespaced" if resource.namespaced else ""
    coll = (f"{prefix}/namespaces/{{namespace}}/{resource.plural}" if resource.namespaced
            else f"{prefix}/{resource.plural}")
    item = coll + "/{name}"
    ok, created, accepted = "200", "201", "202"

    def op(path: str, method: str, verb: str, action: str, desc: str, params: tuple[str, ...],
           body: str | None, responses: tuple[tuple[str, str | None], ...],
           suffix: str = "", op_gvk: GVK = gvk, consumes: tuple[str, ...] = ("*/*",),
           out: tuple[str, ...] = produces, where: str = ns) -> Operation:
        return Operation(path, method, f"{verb}{g}{v}{where}{kind}{suffix}", desc, action,
                         op_gvk, t, tuple(sorted(params)), body, consumes if body else (),
                         responses, out)

    if "list" in verbs:
        yield op(coll, "get", "list", "list", f"list or watch objects of kind {kind}", _LIST,
                 None, ((ok, lst),), out=produces + streams)
    if "create" in verbs:
        yield op(coll, "post", "create", "post", f"create a {kind}", _WRITE, obj,
                 ((ok, obj), (created, obj), (accepted, obj)))
    if "deletecollection" in verbs:
        yield op(coll, "delete", "delete", "deletecollection", f"delete collection of {kind}",
                 _DELETE_COLLECTION, DELETE_OPTIONS, ((ok, STATUS),),
                 where="Collection" + ns)
    if "get" in verbs:
        yield op(item, "get", "read", "get", f"read the specified {kind}", (), None, ((ok, obj),))
    if "update" in verbs:
        yield op(item, "put", "replace", "put", f"replace the specified {kind}", _UPDATE, obj,
                 ((ok, obj), (created, obj)))
    if "delete" in verbs:
        yield op(item, "delete", "delete", "delete", f"delete a {kind}", _DELETE,
                 DELETE_OPTIONS, ((ok, STATUS), (accepted, STATUS)))
    if "patch" in verbs:
        yield op(item, "patch", "patch", "patch", f"partially update the specified {kind}",
                 _PATCH, PATCH, ((ok, obj), (created, obj)), consumes=patch_types)
    for sub in resource.subresources:
        path, title = f"{item}/{sub}", sub.capitalize()
        sub_gvk, sub_def = _SUB_GVK.get(sub, gvk), _SUB_DEF.get(sub, obj)
        if sub in _CREATE_ONLY_SUBRESOURCES:
            yield op(path, "post", "create", "post", f"create {sub} of a {kind}", _WRITE,
                     sub_def, ((ok, sub_def), (created, sub_def), (accepted, sub_def)),
                     suffix=title, op_gvk=sub_gvk)
            continue
        if sub != "finalize":
            yield op(path, "get", "read", "get", f"read {sub} of the specified {kind}", (),
                     None, ((ok, sub_def),), suffix=title, op_gvk=sub_gvk)
        yield op(path, "put", "replace", "put", f"replace {sub} of the specified {kind}",
                 _UPDATE, sub_def, ((ok, sub_def), (created, sub_def)), suffix=title,
                 op_gvk=sub_gvk)
        if sub != "finalize":
            yield op(path, "patch", "patch", "patch",
                     f"partially update {sub} of the specified {kind}", _PATCH, PATCH,
                     ((ok, sub_def), (created, sub_def)), suffix=title, op_gvk=sub_gvk,
                     consumes=patch_types)
    if "list" in verbs and resource.namespaced:
        yield op(f"{prefix}/{resource.plural}", "get", "list", "list",
                 f"list or watch objects of kind {kind}", _LIST, None, ((ok, lst),),
                 suffix="ForAllNamespaces", out=produces + streams, where="")
    if "watch" in verbs:
        watch_out = produces + streams
        wcoll = coll.replace(prefix, prefix + "/watch", 1)
        yield op(wcoll, "get", "watch", "watchlist",
                 f"watch individual changes to a list of {kind}. deprecated: use the 'watch' "
                 "parameter with a list operation instead.", _LIST, None,
                 ((ok, WATCH_EVENT),), suffix="List", out=watch_out)
        yield op(wcoll + "/{name}", "get", "watch", "watch",
                 f"watch changes to an object of kind {kind}. deprecated: use the 'watch' "
                 "parameter with a list operation instead, filtered to a single item with "
                 "the 'fieldSelector' parameter.", _LIST, None, ((ok, WATCH_EVENT),),
                 out=watch_out)
        if resource.namespaced:
            yield op(f"{prefix}/watch/{resource.plural}", "get", "watch", "watchlist",
                     f"watch individual changes to a list of {kind}. deprecated: use the "
                     "'watch' parameter with a list operation instead.", _LIST, None,
                     ((ok, WATCH_EVENT),), suffix="ListForAllNamespaces", out=watch_out,
                     where="")


def path_params(path: str, kind: str) -> list[tuple[str, str, str, bool]]:
    """(name, in, description, required) of a path's shared parameters."""
    out: list[tuple[str, str, str, bool]] = []
    if "{name}" in path:
        out.append(("name", "path", f"name of the {kind}", True))
    if "{namespace}" in path:
        out.append(("namespace", "path",
                    "object name and auth scope, such as for teams and projects", True))
    out.append(("pretty", "query", QUERY_PARAMS["pretty"][1], False))
    return out


# --- schemas -------------------------------------------------------------------------

_REF = "#/$defs/"
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf")


def convert(schema: Schema, *, ref_prefix: str, v3: bool) -> Schema:
    """One definition from the pinned JSON Schema form to OpenAPI (v2 or v3) form."""
    out: Schema = {}
    ref = schema.get("$ref")
    for key, value in schema.items():
        if key == "$ref":
            continue
        if key == "type":
            types = [value] if isinstance(value, str) else [t for t in value if t != "null"]
            if len(types) == 1:
                out["type"] = types[0]
            elif len(types) > 1 and v3:
                out["anyOf"] = [{"type": t} for t in types]
        elif key == "properties":
            out[key] = {name: _convert_property(name, s, ref_prefix, v3) for name, s in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            if key == "not" and not v3:
                continue
            out[key] = convert(value, ref_prefix=ref_prefix, v3=v3)
        elif key in _SCHEMA_LISTS:
            if v3:
                out[key] = [convert(s, ref_prefix=ref_prefix, v3=v3) for s in value]
            elif all(set(s) <= {"type"} for s in value) and "type" not in schema:
                out["type"] = "string"  # IntOrString / Quantity: swagger has no oneOf
        elif key == "nullable" and not v3:
            continue
        else:
            out[key] = value
    if not v3 and out.get("x-kubernetes-int-or-string"):
        out.pop("type", None)  # swagger cannot say "integer or string"; upstream says nothing
    if ref is not None:
        target = ref_prefix + ref.removeprefix(_REF)
        if not v3 or not out:
            out = {"$ref": target, **out}
        else:
            # OpenAPI 3.0 ignores siblings of $ref; upstream wraps the ref in allOf.
            out = {"allOf": [{"$ref": target}], **out}
    return out


def _convert_property(name: str, schema: Schema, ref_prefix: str, v3: bool) -> Schema:
    if name in ("apiVersion", "kind") and "enum" in schema:
        # The pinned definitions pin apiVersion/kind with a one-value enum that
        # upstream's documents do not have; kubectl explain would print it.
        schema = {k: v for k, v in schema.items() if k != "enum"}
    return convert(schema, ref_prefix=ref_prefix, v3=v3)


def _special(name: str, v3: bool) -> Schema | None:
    """IntOrString and Quantity, spelt as kube-openapi spells them."""
    base = schemas.definitions()[name]
    desc = {"description": base["description"]} if "description" in base else {}
    if name == INT_OR_STRING:
        if v3:
            return {**desc, "format": "int-or-string",
                    "oneOf": [{"type": "integer"}, {"type": "string"}]}
        return {**desc, "type": "string", "format": "int-or-string"}
    if name == QUANTITY:
        if v3:
            return {**desc, "oneOf": [{"type": "string"}, {"type": "number"}]}
        return {**desc, "type": "string"}
    return None


@functools.cache
def builtin_definition(name: str, v3: bool) -> Schema:
    """A converted built-in definition (cached: the pinned definitions never change)."""
    special = _special(name, v3)
    if special is not None:
        return special
    prefix = "#/components/schemas/" if v3 else "#/definitions/"
    return convert(schemas.definitions()[name], ref_prefix=prefix, v3=v3)


def crd_definitions(resource: ResourceSpec, version: str) -> dict[str, Schema]:
    """The kind and list definitions of a custom resource, in the pinned JSON Schema
    form (refs `#/$defs/...`), so they convert like built-ins."""
    if resource.crd_schemas is None:
        raise ValueError(f"{resource.group_resource} is not a custom resource")
    base = dict(resource.crd_schemas.get(version) or {"type": "object",
                                                      "x-kubernetes-preserve-unknown-fields": True})
    api_version = GVK(resource.group, version, resource.kind).api_version
    typemeta = schemas.definitions()["io.k8s.api.core.v1.Pod"]["properties"]
    props = dict(base.get("properties") or {})
    props["apiVersion"] = {"description": typemeta["apiVersion"]["description"], "type": "string"}
    props["kind"] = {"description": typemeta["kind"]["description"], "type": "string"}
    props["metadata"] = {"$ref": _REF + OBJECT_META,
                         "description": typemeta["metadata"]["description"]}
    kind_schema: Schema = {**base, "type": "object", "properties": props,
                           "x-kubernetes-group-version-kind": [
                               {"group": resource.group, "kind": resource.kind, "version": version}]}
    list_schema: Schema = {
        "description": f"{resource.list_kind} is a list of {resource.kind}",
        "type": "object",
        "required": ["items"],
        "properties": {
            "apiVersion": props["apiVersion"],
            "items": {"description": f"List of {resource.plural}. More info: "
                      "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md",
                      "type": "array",
                      "items": {"$ref": _REF + definition_name(resource, version)}},
            "kind": props["kind"],
            "metadata": {"$ref": _REF + LIST_META, "description": "Standard list metadata. "
                         "More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds"},
        },
        "x-kubernetes-group-version-kind": [
            {"group": resource.group, "kind": resource.list_kind, "version": version}],
    }
    return {definition_name(resource, version): kind_schema,
            definition_name(resource, version, resource.list_kind): list_schema}


def refs_in(value: Any, prefix: str) -> Iterator[str]:
    """Every definition name referenced (`$ref` starting with `prefix`) inside `value`."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "$ref" and isinstance(v, str) and v.startswith(prefix):
                yield v[len(prefix):]
            else:
                yield from refs_in(v, prefix)
    elif isinstance(value, list):
        for v in value:
            yield from refs_in(v, prefix)


def definitions_closure(roots: Iterable[str], extra: dict[str, Schema]) -> list[str]:
    """Names reachable from `roots` through refs, over built-ins plus `extra` (sorted)."""
    seen: set[str] = set()
    todo = list(roots)
    builtins = schemas.definitions()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source = extra.get(name) or builtins.get(name)
        if source is None:
            raise LookupError(f"OpenAPI definition {name} is unknown")
        todo.extend(refs_in(source, _REF))
    return sorted(seen)


def render_definitions(names: Iterable[str], extra: dict[str, Schema], *, v3: bool) -> dict[str, Schema]:
    prefix = "#/components/schemas/" if v3 else "#/definitions/"
    return {n: (convert(extra[n], ref_prefix=prefix, v3=v3) if n in extra
                else builtin_definition(n, v3)) for n in names}


def content_hash(document: dict[str, Any]) -> str:
    """A stable hash of a document: upstream's `?hash=` is the SHA-512 of its bytes."""
    return hashlib.sha512(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest().upper()


def fingerprint(resources: Iterable[ResourceSpec]) -> tuple[Any, ...]:
    """A cache key for a resource set. ResourceSpec equality ignores CRD schemas, so
    their content is folded in by hash."""
    out = []
    for r in resources:
        digest = (hashlib.sha256(orjson.dumps(r.crd_schemas, option=orjson.OPT_SORT_KEYS)).hexdigest()
                  if r.crd_schemas is not None else None)
        out.append((r, digest))
    return tuple(out)
