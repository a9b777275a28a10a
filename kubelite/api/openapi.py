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

# name -> (type, description): the query parameters upstream documents.
QUERY_PARAMS: dict[str, tuple[str, str]] = {
    "allowWatchBookmarks": ("boolean", "allowWatchBookmarks requests watch events with type \"BOOKMARK\". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server's discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored."),
    "continue": ("string", "The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize."),
    "dryRun": ("string", "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed"),
    "fieldManager": ("string", "fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint."),
    "fieldSelector": ("string", "A selector to restrict the list of returned objects by their fields. Defaults to everything."),
    "fieldValidation": ("string", "fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered."),
    "force": ("boolean", "Force is going to \"force\" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests."),
    "gracePeriodSeconds": ("integer", "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately."),
    "ignoreStoreReadErrorWithClusterBreakingPotential": ("boolean", "if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it"),
    "labelSelector": ("string", "A selector to restrict the list of returned objects by their labels. Defaults to everything."),
    "limit": ("integer", "limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results."),
    "orphanDependents": ("boolean", "Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the \"orphan\" finalizer will be added to/removed from the object's finalizers list. Either this field or PropagationPolicy may be set, but not both."),
    "pretty": ("string", "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
    "propagationPolicy": ("string", "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground."),
    "resourceVersion": ("string", "resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"),
    "resourceVersionMatch": ("string", "resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset"),
    "sendInitialEvents": ("boolean", "`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection."),
    "timeoutSeconds": ("integer", "Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity."),
    "watch": ("boolean", "Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion."),
}
_LIST = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
         "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds",
         "watch")
_WRITE = ("dryRun", "fieldManager", "fieldValidation")
_PATCH = (*_WRITE, "force")
_DELETE = ("dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential",
           "orphanDependents", "propagationPolicy")
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

_SUB_GVK = {"scale": GVK("autoscaling", "v1", "Scale"), "binding": GVK("", "v1", "Binding")}
_SUB_DEF = {"scale": SCALE, "binding": BINDING}


def operations(resource: ResourceSpec, version: str) -> Iterator[Operation]:
    """Every operation upstream publishes for `resource` at `version`, paths included."""
    g, v, kind = camel_group(resource.group), version.capitalize(), resource.kind
    t = tag(resource.group, version)
    gvk = GVK(resource.group, version, kind)
    obj = definition_name(resource, version)
    lst = definition_name(resource, version, resource.list_kind)
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
        yield op(item, "put", "replace", "put", f"replace the specified {kind}", _WRITE, obj,
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
        if sub == "binding":
            yield op(path, "post", "create", "post", f"create binding of a {kind}", _WRITE,
                     sub_def, ((ok, sub_def), (created, sub_def), (accepted, sub_def)),
                     suffix=title, op_gvk=sub_gvk)
            continue
        if sub != "finalize":
            yield op(path, "get", "read", "get", f"read {sub} of the specified {kind}", (),
                     None, ((ok, sub_def),), suffix=title, op_gvk=sub_gvk)
        yield op(path, "put", "replace", "put", f"replace {sub} of the specified {kind}",
                 _WRITE, sub_def, ((ok, sub_def), (created, sub_def)), suffix=title,
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
