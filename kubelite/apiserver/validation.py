"""What a request body must be before anything acts on it: of the right JSON types,
and free of unknown or duplicate fields (fieldValidation=Ignore|Warn|Strict).

Types come first, as in kube-apiserver, whose decoder fails on a mistyped field before
the strict decoder looks for unknown ones:
- a built-in kind is decoded as its Go struct would be (api/gotypes): a 400
  `ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal
  array into Go struct field ConfigMap.data of type map[string]string`;
- a custom resource is unstructured JSON, so only its metadata is decoded (into
  ObjectMeta, as apiextensions-apiserver does); the rest is the CRD schema's business,
  a 422 from the strategy's validation;
- the object a JSON, merge or strategic merge patch produces gets the same check, but
  upstream reports it as a 422 on the field `patch`.

Unknown fields: kubectl sends fieldValidation=Strict when the server's OpenAPI v3
documents list the parameter, and then relies on the server to reject a misspelt field
with a 400 `strict decoding error: unknown field "spec.replicass"`. Warn answers with a
Warning header instead; Ignore drops nothing and says nothing. Custom resources are
checked against their CRD schema, built-ins against the pinned Kubernetes schemas.
"""

from __future__ import annotations

from typing import Any

import orjson

from kubelite.api import gotypes, schemas
from kubelite.api.catalogue import GVK, ResourceSpec
from kubelite.api.structural import unknown_fields
from kubelite.apiserver.negotiation import decode_body
from kubelite.machinery import errors
from kubelite.machinery.go_json import cannot_be_handled, go_float

Obj = dict[str, Any]


def check_body(spec: ResourceSpec, version: str, obj: Obj, mode: str) -> list[str]:
    """A decoded request body (POST, PUT): 400 on a mistyped field, then the unknown
    fields as check_fields says. Nulls are settled in place as Go would decode them."""
    try:
        decode_types(spec, version, obj)
    except gotypes.DecodeError as exc:
        raise errors.BadRequest(cannot_be_handled(spec.kind, version, exc)) from None
    return check_fields(spec, version, obj, mode)


def check_patched(spec: ResourceSpec, version: str, obj: Obj, mode: str, patch: Any,
                  *, strategic: bool) -> list[str]:
    """The object a patch produced: a mistyped field is a 422 on `patch`, whose value
    is the patched object (JSON and merge patches) or the patch itself printed as a Go
    map (strategic merge patch), as upstream's patcher reports them."""
    try:
        decode_types(spec, version, obj)
    except gotypes.DecodeError as exc:
        # Go marshals a map with its keys sorted.
        shown = go_print(patch) if strategic else \
            orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
        raise errors.invalid("", "", "", [errors.Cause(
            "FieldValueInvalid", f"Invalid value: {orjson.dumps(shown).decode()}: {exc}",
            "patch")]) from None
    return check_fields(spec, version, obj, mode)


def decode_types(spec: ResourceSpec, version: str, obj: Obj) -> None:
    """Raise gotypes.DecodeError where Go's decoder would refuse `obj`."""
    if spec.crd_schemas is not None:
        if "metadata" in obj:
            meta = obj["metadata"]
            if meta is None:
                del obj["metadata"]  # null decodes to an empty ObjectMeta
            else:
                obj["metadata"] = gotypes.check(gotypes.object_meta(), meta)
        return
    name = schemas.definition_name(spec.gvk(version))
    if name is not None:
        gotypes.check(gotypes.definition_type(name), obj)


def check_subresource_body(gvk: GVK, body: Obj) -> None:
    """A subresource's body (Binding, Eviction, a Namespace to finalize), decoded
    as its Go type: 400 with the decoder's message, as check_body words it."""
    name = schemas.definition_name(gvk)
    if name is None:
        return
    try:
        gotypes.check(gotypes.definition_type(name), body)
    except gotypes.DecodeError as exc:
        raise errors.BadRequest(cannot_be_handled(gvk.kind, gvk.version, exc)) from None


def decode_subresource_body(raw: bytes, content_type: str, gvk: GVK) -> Obj:
    """A POSTed subresource body decoded and checked as its Go type: 400 unless it is
    an object of that shape."""
    body = decode_body(raw, content_type)
    if not isinstance(body, dict):
        article = "an" if gvk.kind[:1] in "AEIOU" else "a"
        raise errors.BadRequest(f"the body must be {article} {gvk.kind} object")
    check_subresource_body(gvk, body)
    return body


def check_delete_options(options: Obj) -> None:
    """A DELETE's body, decoded as metav1.DeleteOptions. Upstream answers a mistyped
    one with a 500 carrying the decoder's message; it is the client's mistake, so
    kubelite says the same with a 400."""
    try:
        gotypes.check(gotypes.definition_type(schemas.META + "DeleteOptions"), options)
    except gotypes.DecodeError as exc:
        raise errors.BadRequest(str(exc)) from None


def check_fields(spec: ResourceSpec, version: str, obj: Obj, mode: str) -> list[str]:
    """Warnings to send back; raises 400 under Strict."""
    if mode == "Ignore":
        return []
    schema = schemas.resource_schema(spec, version)
    if schema is None:
        return []
    unknown = unknown_fields(obj, schema)
    if not unknown:
        return []
    messages = [f'unknown field "{path.lstrip(".")}"' for path in unknown]
    if mode == "Strict":
        raise errors.BadRequest("strict decoding error: " + ", ".join(messages))
    return messages


def go_print(value: Any) -> str:
    """fmt's %+v of a decoded JSON value: `map[data:[a 1] metadata:map[name:x]]`."""
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_print(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_print(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return go_float(value)
    return str(value)
