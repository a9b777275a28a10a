"""`/openapi/v2` in protobuf: the swagger 2.0 document as gnostic's `openapi.v2.Document`.

kubectl reads /openapi/v2 as `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
for client-side validation (always for a `kind: List`) and for the patch metadata of a
client-side `kubectl apply`. Upstream produces the bytes by parsing its JSON document
with gnostic (`openapi_v2.ParseDocument`) and marshalling the result; this module does
the same walk over the JSON dict, straight to the wire, from one table per message of
gnostic-models `openapiv2/OpenAPIv2.proto`.

What gnostic's mapping comes to, and so what this encoder does:
- A swagger object is a message; a key becomes the field of that name. Keys starting
  with `x-` become `NamedAny{name, Any{yaml}}` entries of the message's
  `vendor_extension`; other unknown keys have no field and are left out.
- Maps (`definitions`, `properties`, `paths`, `responses`, ...) are repeated
  `Named*{name, value}` pairs in document order.
- Values that may take several shapes are wrapped in a message with a oneof:
  `type` (TypeItem: a list of names), `items` (ItemsItem: a list of schemas),
  `additionalProperties` (a schema or a bool), a parameter (body, query, path, header
  or formData by its `in`, or a `$ref`), a response (or a `$ref`), a response schema
  (a file schema when its type is `file`), a security definition (by type and flow).
- Free-form values (`default`, `example`, `enum` items, extensions) are `Any.yaml`:
  YAML text that readers unmarshal. JSON is YAML, so the text written is the value's
  JSON, which kubectl's YAML reader (go-yaml) parses to the same value.
- proto3 leaves zero scalars out (an empty string, false, 0), as Go's marshaller does,
  except inside a oneof, where a `false` is still a choice and is written. An empty
  message that is present in JSON (`"properties": {}`) is written: kubectl tells an
  object with no fields from a free-form map by the presence of `properties`.

Fields are written in the order of the JSON keys rather than by field number; protobuf
readers take either.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from kubelite.api.protobuf.wire import BYTES, double_field, tag, varint, varint_field

# (field number, value) -> the encoded field or fields; b"" for nothing to write.
FieldEncoder = Callable[[int, Any], bytes]
# A message: JSON key -> (field number, encoder), and the number of its
# `vendor_extension` field (0: the message takes no extensions).
Table = tuple[dict[str, tuple[int, FieldEncoder]], int]


def encode_document(document: dict[str, Any]) -> bytes:
    """The gnostic `openapi.v2.Document` bytes of a swagger 2.0 JSON document."""
    return _encode("Document", document)


# Nearly every field is length-delimited and most values are short, so the tags (every
# gnostic field number is below 32) and one-byte lengths are made once: the wire
# helpers' varint loop was most of the encoding time.
_TAGS = tuple(tag(n, BYTES) for n in range(32))
_SHORT_LENGTHS = tuple(bytes((n,)) for n in range(0x80))


def _bytes_field(number: int, value: bytes) -> bytes:
    n = len(value)
    return _TAGS[number] + (_SHORT_LENGTHS[n] if n < 0x80 else varint(n)) + value


# --- scalars -----------------------------------------------------------------------

def _string(number: int, value: Any) -> bytes:
    return _bytes_field(number, value.encode()) if value else b""


def _strings(number: int, values: Any) -> bytes:
    return b"".join(_bytes_field(number, v.encode()) for v in values)


def _bool(number: int, value: Any) -> bytes:
    return varint_field(number, 1) if value else b""


def _int(number: int, value: Any) -> bytes:
    return varint_field(number, int(value)) if value else b""


def _double(number: int, value: Any) -> bytes:
    return double_field(number, float(value)) if value else b""


def _yaml(value: Any) -> bytes:
    """The `Any` message of a free-form value: its JSON text in the `yaml` field."""
    return _bytes_field(2, orjson.dumps(value) + b"\n")


def _any(number: int, value: Any) -> bytes:
    return _bytes_field(number, _yaml(value))


def _anys(number: int, values: Any) -> bytes:
    return b"".join(_bytes_field(number, _yaml(v)) for v in values)


def _named_any(name: str, value: Any) -> bytes:
    return _bytes_field(1, name.encode()) + _bytes_field(2, _yaml(value))


# --- messages ----------------------------------------------------------------------

def _encode(message: str, obj: dict[str, Any]) -> bytes:
    fields, extensions = _TABLES[message]
    out: list[bytes] = []
    for key, value in obj.items():
        field = fields.get(key)
        if field is not None:
            out.append(field[1](field[0], value))
        elif extensions and key.startswith("x-"):
            out.append(_bytes_field(extensions, _named_any(key, value)))
    return b"".join(out)


def _message(name: str) -> FieldEncoder:
    """A singular message field, written even when empty (its presence is meaningful)."""
    def encode(number: int, value: Any) -> bytes:
        return _bytes_field(number, _ENCODERS[name](value))
    return encode


def _messages(name: str) -> FieldEncoder:
    def encode(number: int, values: Any) -> bytes:
        body = _ENCODERS[name]
        return b"".join(_bytes_field(number, body(v)) for v in values)
    return encode


def _table_body(name: str) -> Callable[[Any], bytes]:
    return lambda obj: _encode(name, obj)


def _named(value_name: str) -> Callable[[Any], bytes]:
    """A map message (`Definitions`, `Properties`, ...): `repeated Named<X> = 1`."""
    def body(obj: Any) -> bytes:
        value = _ENCODERS[value_name]
        return b"".join(_bytes_field(1, _bytes_field(1, k.encode()) + _bytes_field(2, value(v)))
                        for k, v in obj.items())
    return body


def _string_value(value: Any) -> bytes:
    return value.encode()  # type: ignore[no-any-return]


def _string_array(values: Any) -> bytes:
    return _strings(1, values)


def _named_anys(obj: Any) -> bytes:
    return b"".join(_bytes_field(1, _named_any(k, v)) for k, v in obj.items())


def _keyed(prefix: str, named: int, value_name: str, extensions: int) -> Callable[[Any], bytes]:
    """`Paths` and `Responses`: entries under one field, `x-` keys under another."""
    def body(obj: Any) -> bytes:
        value = _ENCODERS[value_name]
        out: list[bytes] = []
        for k, v in obj.items():
            if k.startswith("x-"):
                out.append(_bytes_field(extensions, _named_any(k, v)))
            elif k.startswith(prefix):
                out.append(_bytes_field(named, _bytes_field(1, k.encode()) + _bytes_field(2, value(v))))
        return b"".join(out)
    return body


# --- the oneof wrappers --------------------------------------------------------------

def _type_item(value: Any) -> bytes:
    return _strings(1, [value] if isinstance(value, str) else value)


def _items_item(value: Any) -> bytes:
    schemas = [value] if isinstance(value, dict) else value
    return b"".join(_bytes_field(1, _encode("Schema", s)) for s in schemas)


def _additional_properties(value: Any) -> bytes:
    if isinstance(value, bool):
        return varint_field(2, int(value))  # a oneof member: false is written too
    return _bytes_field(1, _encode("Schema", value))


def _json_reference(value: Any) -> bytes:
    return _encode("JsonReference", value)


_NON_BODY = {"header": (1, "HeaderParameterSubSchema"), "formData": (2, "FormDataParameterSubSchema"),
             "query": (3, "QueryParameterSubSchema"), "path": (4, "PathParameterSubSchema")}


def _parameter(value: Any) -> bytes:
    where = value.get("in")
    if where == "body":
        return _bytes_field(1, _encode("BodyParameter", value))
    number, name = _NON_BODY.get(where, (3, "QueryParameterSubSchema"))
    return _bytes_field(2, _bytes_field(number, _encode(name, value)))


def _parameters_item(value: Any) -> bytes:
    if "$ref" in value:
        return _bytes_field(2, _json_reference(value))
    return _bytes_field(1, _parameter(value))


def _response_value(value: Any) -> bytes:
    if "$ref" in value:
        return _bytes_field(2, _json_reference(value))
    return _bytes_field(1, _encode("Response", value))


def _schema_item(value: Any) -> bytes:
    if value.get("type") == "file":
        return _bytes_field(2, _encode("FileSchema", value))
    return _bytes_field(1, _encode("Schema", value))


_OAUTH2_FLOWS = {"implicit": (3, "Oauth2ImplicitSecurity"), "password": (4, "Oauth2PasswordSecurity"),
                 "application": (5, "Oauth2ApplicationSecurity"),
                 "accessCode": (6, "Oauth2AccessCodeSecurity")}


def _security_definitions_item(value: Any) -> bytes:
    kind = value.get("type")
    if kind == "basic":
        return _bytes_field(1, _encode("BasicAuthenticationSecurity", value))
    if kind == "oauth2" and value.get("flow") in _OAUTH2_FLOWS:
        number, name = _OAUTH2_FLOWS[value["flow"]]
        return _bytes_field(number, _encode(name, value))
    return _bytes_field(2, _encode("ApiKeySecurity", value))


# --- the tables (field numbers from gnostic-models openapiv2/OpenAPIv2.proto) --------

_S, _SS, _B, _I, _D, _A, _AS = _string, _strings, _bool, _int, _double, _any, _anys
_M, _MS = _message, _messages

_PRIMITIVE_KEYS = ("type", "format", "items", "collectionFormat", "default", "maximum",
                   "exclusiveMaximum", "minimum", "exclusiveMinimum", "maxLength", "minLength",
                   "pattern", "maxItems", "minItems", "uniqueItems", "enum", "multipleOf")
_PRIMITIVE_KINDS: tuple[FieldEncoder, ...] = (
    _S, _S, _M("PrimitivesItems"), _S, _A, _D, _B, _D, _B, _I, _I, _S, _I, _I, _B, _AS, _D)


def _primitive(first: int) -> dict[str, tuple[int, FieldEncoder]]:
    """The run of primitive-validation fields that Header, PrimitivesItems and the
    non-body parameters share, numbered from `first`."""
    return {k: (first + i, f) for i, (k, f) in enumerate(zip(_PRIMITIVE_KEYS, _PRIMITIVE_KINDS))}


_PARAMETER_HEAD = {"required": (1, _B), "in": (2, _S), "description": (3, _S), "name": (4, _S)}

_TABLES: dict[str, Table] = {
    "Document": ({
        "swagger": (1, _S), "info": (2, _M("Info")), "host": (3, _S), "basePath": (4, _S),
        "schemes": (5, _SS), "consumes": (6, _SS), "produces": (7, _SS), "paths": (8, _M("Paths")),
        "definitions": (9, _M("Definitions")), "parameters": (10, _M("ParameterDefinitions")),
        "responses": (11, _M("ResponseDefinitions")), "security": (12, _MS("SecurityRequirement")),
        "securityDefinitions": (13, _M("SecurityDefinitions")), "tags": (14, _MS("Tag")),
        "externalDocs": (15, _M("ExternalDocs"))}, 16),
    "Info": ({"title": (1, _S), "version": (2, _S), "description": (3, _S),
              "termsOfService": (4, _S), "contact": (5, _M("Contact")),
              "license": (6, _M("License"))}, 7),
    "Contact": ({"name": (1, _S), "url": (2, _S), "email": (3, _S)}, 4),
    "License": ({"name": (1, _S), "url": (2, _S)}, 3),
    "ExternalDocs": ({"description": (1, _S), "url": (2, _S)}, 3),
    "Tag": ({"name": (1, _S), "description": (2, _S), "externalDocs": (3, _M("ExternalDocs"))}, 4),
    "PathItem": ({"$ref": (1, _S), "get": (2, _M("Operation")), "put": (3, _M("Operation")),
                  "post": (4, _M("Operation")), "delete": (5, _M("Operation")),
                  "options": (6, _M("Operation")), "head": (7, _M("Operation")),
                  "patch": (8, _M("Operation")), "parameters": (9, _MS("ParametersItem"))}, 10),
    "Operation": ({"tags": (1, _SS), "summary": (2, _S), "description": (3, _S),
                   "externalDocs": (4, _M("ExternalDocs")), "operationId": (5, _S),
                   "produces": (6, _SS), "consumes": (7, _SS),
                   "parameters": (8, _MS("ParametersItem")), "responses": (9, _M("Responses")),
                   "schemes": (10, _SS), "deprecated": (11, _B),
                   "security": (12, _MS("SecurityRequirement"))}, 13),
    "JsonReference": ({"$ref": (1, _S), "description": (2, _S)}, 0),
    "BodyParameter": ({"description": (1, _S), "name": (2, _S), "in": (3, _S),
                       "required": (4, _B), "schema": (5, _M("Schema"))}, 6),
    "HeaderParameterSubSchema": ({**_PARAMETER_HEAD, **_primitive(5)}, 22),
    "PathParameterSubSchema": ({**_PARAMETER_HEAD, **_primitive(5)}, 22),
    "QueryParameterSubSchema": ({**_PARAMETER_HEAD, "allowEmptyValue": (5, _B), **_primitive(6)}, 23),
    "FormDataParameterSubSchema": ({**_PARAMETER_HEAD, "allowEmptyValue": (5, _B), **_primitive(6)}, 23),
    "PrimitivesItems": (_primitive(1), 18),
    "Header": ({**_primitive(1), "description": (18, _S)}, 19),
    "Response": ({"description": (1, _S), "schema": (2, _M("SchemaItem")),
                  "headers": (3, _M("Headers")), "examples": (4, _M("Examples"))}, 5),
    "Schema": ({
        "$ref": (1, _S), "format": (2, _S), "title": (3, _S), "description": (4, _S),
        "default": (5, _A), "multipleOf": (6, _D), "maximum": (7, _D), "exclusiveMaximum": (8, _B),
        "minimum": (9, _D), "exclusiveMinimum": (10, _B), "maxLength": (11, _I),
        "minLength": (12, _I), "pattern": (13, _S), "maxItems": (14, _I), "minItems": (15, _I),
        "uniqueItems": (16, _B), "maxProperties": (17, _I), "minProperties": (18, _I),
        "required": (19, _SS), "enum": (20, _AS),
        "additionalProperties": (21, _M("AdditionalPropertiesItem")), "type": (22, _M("TypeItem")),
        "items": (23, _M("ItemsItem")), "allOf": (24, _MS("Schema")),
        "properties": (25, _M("Properties")), "discriminator": (26, _S), "readOnly": (27, _B),
        "xml": (28, _M("Xml")), "externalDocs": (29, _M("ExternalDocs")), "example": (30, _A)}, 31),
    "FileSchema": ({"format": (1, _S), "title": (2, _S), "description": (3, _S),
                    "default": (4, _A), "required": (5, _SS), "type": (6, _S),
                    "readOnly": (7, _B), "externalDocs": (8, _M("ExternalDocs")),
                    "example": (9, _A)}, 10),
    "Xml": ({"name": (1, _S), "namespace": (2, _S), "prefix": (3, _S), "attribute": (4, _B),
             "wrapped": (5, _B)}, 6),
    "ApiKeySecurity": ({"type": (1, _S), "name": (2, _S), "in": (3, _S), "description": (4, _S)}, 5),
    "BasicAuthenticationSecurity": ({"type": (1, _S), "description": (2, _S)}, 3),
    "Oauth2ImplicitSecurity": ({"type": (1, _S), "flow": (2, _S), "scopes": (3, _M("Oauth2Scopes")),
                                "authorizationUrl": (4, _S), "description": (5, _S)}, 6),
    "Oauth2PasswordSecurity": ({"type": (1, _S), "flow": (2, _S), "scopes": (3, _M("Oauth2Scopes")),
                                "tokenUrl": (4, _S), "description": (5, _S)}, 6),
    "Oauth2ApplicationSecurity": ({"type": (1, _S), "flow": (2, _S),
                                   "scopes": (3, _M("Oauth2Scopes")), "tokenUrl": (4, _S),
                                   "description": (5, _S)}, 6),
    "Oauth2AccessCodeSecurity": ({"type": (1, _S), "flow": (2, _S),
                                  "scopes": (3, _M("Oauth2Scopes")), "authorizationUrl": (4, _S),
                                  "tokenUrl": (5, _S), "description": (6, _S)}, 7),
}

# Message name -> the function that writes its body (a dict's fields, without the tag).
_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    **{name: _table_body(name) for name in _TABLES},
    "Paths": _keyed("/", 2, "PathItem", 1),
    "Responses": _keyed("", 1, "ResponseValue", 2),
    "Definitions": _named("Schema"),
    "Properties": _named("Schema"),
    "ParameterDefinitions": _named("Parameter"),
    "ResponseDefinitions": _named("Response"),
    "SecurityDefinitions": _named("SecurityDefinitionsItem"),
    "Headers": _named("Header"),
    "Oauth2Scopes": _named("string"),
    "SecurityRequirement": _named("StringArray"),
    "Examples": _named_anys,
    "string": _string_value,
    "StringArray": _string_array,
    "TypeItem": _type_item,
    "ItemsItem": _items_item,
    "AdditionalPropertiesItem": _additional_properties,
    "Parameter": _parameter,
    "ParametersItem": _parameters_item,
    "ResponseValue": _response_value,
    "SchemaItem": _schema_item,
    "SecurityDefinitionsItem": _security_definitions_item,
}
