"""The protobuf /openapi/v2 document, read back by an independent decoder.

The decoder is the `google.protobuf` runtime driven by the `openapi.v2` file descriptor
that kubectl itself carries: protoc-gen-go embeds each .proto's serialized
FileDescriptorProto in the binary, so the field numbers and types checked here are the
ones kubectl decodes with, not a copy of this module's tables. A message is turned back
into swagger JSON by reflection alone (names from the descriptor, `Named*` lists as
maps, `x-` extensions from `vendor_extension`, `Any.yaml` through a YAML parser) and
must equal the document that was encoded.
"""

from __future__ import annotations

import gzip
import hashlib
import pathlib
from typing import Any

import pytest
import yaml
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from kubelite.api import openapi_v2
from kubelite.api.catalogue import RESOURCES, ResourceSpec
from kubelite.api.openapi_v2_protobuf import encode_document
from kubelite.api.protobuf import wire

BIN = pathlib.Path(__file__).parents[2] / ".tools" / "bin"
_FILE_START = b"\n\x19openapiv2/OpenAPIv2.proto\x12\nopenapi.v2"
_SYNTAX = 12  # the last field protoc writes in a FileDescriptorProto


def _descriptor(binary: pathlib.Path) -> descriptor_pb2.FileDescriptorProto:
    data = binary.read_bytes()
    start = pos = data.find(_FILE_START)
    if start < 0:
        pytest.fail(f"{binary.name} carries no openapiv2/OpenAPIv2.proto descriptor")
    while True:
        key, pos = wire.read_varint(data, pos)
        length, pos = wire.read_varint(data, pos)  # every field of the file is length-delimited
        pos += length
        if key >> 3 == _SYNTAX:
            return descriptor_pb2.FileDescriptorProto.FromString(data[start:pos])


@pytest.fixture(scope="module")
def document_class() -> type[Message]:
    """`openapi.v2.Document` as kubectl 1.32 and 1.35 know it (one descriptor: the
    gnostic-models schema is the same in both)."""
    binaries = [BIN / f"kubectl-{v}" for v in ("1.32", "1.35") if (BIN / f"kubectl-{v}").exists()]
    if not binaries:
        pytest.skip("no kubectl binary in .tools/bin")
    descriptors = [_descriptor(b) for b in binaries]
    assert all(d == descriptors[0] for d in descriptors)
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)
    pool.Add(descriptors[0])
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("openapi.v2.Document"))


def _to_json(msg: Message) -> Any:
    """Swagger JSON back from a decoded gnostic message, by reflection."""
    assert len(UnknownFieldSet(msg)) == 0, f"{msg.DESCRIPTOR.name} has fields kubectl does not know"
    name = msg.DESCRIPTOR.name
    if name == "Any":
        return yaml.safe_load(msg.yaml)  # type: ignore[attr-defined]
    if name in ("TypeItem", "ItemsItem"):
        values = [_value(v) for v in (msg.value if name == "TypeItem" else msg.schema)]  # type: ignore[attr-defined]
        return values[0] if len(values) == 1 else values
    if name == "StringArray":
        return list(msg.value)  # type: ignore[attr-defined]
    if [o.name for o in msg.DESCRIPTOR.oneofs] == ["oneof"]:
        which = msg.WhichOneof("oneof")
        assert which is not None, f"{name} holds none of its choices"
        return _value(getattr(msg, which))
    out: dict[str, Any] = {}
    for field, value in msg.ListFields():
        if field.message_type is not None and field.message_type.name.startswith("Named"):
            out.update((entry.name, _value(entry.value)) for entry in value)
        else:
            key = "$ref" if field.name == "_ref" else field.json_name
            repeated = field.is_repeated
            out[key] = [_value(v) for v in value] if repeated else _value(value)
    return out


def _value(value: Any) -> Any:
    return _to_json(value) if isinstance(value, Message) else value


def _round_trip(document_class: type[Message], document: dict[str, Any]) -> tuple[Message, Any]:
    decoded = document_class.FromString(encode_document(document))
    return decoded, _to_json(decoded)


def _crontab() -> ResourceSpec:
    schema = {"type": "object", "properties": {
        "spec": {"type": "object", "required": ["cronSpec"], "properties": {
            "cronSpec": {"type": "string", "pattern": "^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$"},
            "replicas": {"type": "integer", "minimum": 1, "maximum": 10, "default": 1},
            "mode": {"type": "string", "enum": ["fast", "slow"]},
            "ratio": {"type": "number", "multipleOf": 0.5, "exclusiveMaximum": True},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 4,
                     "x-kubernetes-list-type": "set"},
            "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "port": {"x-kubernetes-int-or-string": True},
            "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}}}
    return ResourceSpec("stable.example.com", ("v1",), "CronTab", "crontabs", short_names=("ct",),
                        subresources=("status", "scale"), crd_schemas={"v1": schema})


@pytest.mark.parametrize("resources", [RESOURCES, (*RESOURCES, _crontab())],
                         ids=["built-in", "with-custom-resource"])
def test_served_document_decodes_in_kubectls_schema_to_the_same_swagger(
        document_class: type[Message], resources: tuple[ResourceSpec, ...]) -> None:
    document = openapi_v2.openapi_v2(resources)
    _, back = _round_trip(document_class, document)
    assert back == document


def _document(**parts: Any) -> dict[str, Any]:
    return {"swagger": "2.0", "info": {"title": "t", "version": "v"}, **parts}


def _schema(schema: dict[str, Any]) -> dict[str, Any]:
    return _document(definitions={"d": schema})


def _op(**operation: Any) -> dict[str, Any]:
    return _document(paths={"/p": {"get": {"responses": {"200": {"description": "OK"}}, **operation}}})


CASES = [
    ("additional-properties-false", _schema({"type": "object", "additionalProperties": False}),
     lambda d: d.definitions.additional_properties[0].value.additional_properties.WhichOneof("oneof"),
     "boolean"),
    ("additional-properties-schema", _schema({"additionalProperties": {"type": "string"}}),
     lambda d: d.definitions.additional_properties[0].value.additional_properties.WhichOneof("oneof"),
     "schema"),
    ("empty-properties-are-present", _schema({"type": "object", "properties": {}}),
     lambda d: d.definitions.additional_properties[0].value.HasField("properties"), True),
    ("no-properties-are-absent", _schema({"type": "object"}),
     lambda d: d.definitions.additional_properties[0].value.HasField("properties"), False),
    ("type-list", _schema({"type": ["string", "null"]}),
     lambda d: list(d.definitions.additional_properties[0].value.type.value), ["string", "null"]),
    ("extension-is-yaml", _schema({"x-kubernetes-group-version-kind": [
        {"group": "", "kind": "Pod", "version": "v1"}]}),
     lambda d: yaml.safe_load(d.definitions.additional_properties[0].value.vendor_extension[0].value.yaml),
     [{"group": "", "kind": "Pod", "version": "v1"}]),
    ("unicode-and-escapes", _schema({"description": "naïve \"quoted\"\n\ttab", "enum": ["ä", "a\u0001b"]}),
     lambda d: yaml.safe_load(d.definitions.additional_properties[0].value.enum[1].yaml), "a\u0001b"),
    ("body-parameter", _op(parameters=[{"name": "body", "in": "body", "required": True,
                                        "schema": {"$ref": "#/definitions/d"}}]),
     lambda d: d.paths.path[0].value.get.parameters[0].parameter.WhichOneof("oneof"), "body_parameter"),
    ("path-parameter", _op(parameters=[{"name": "n", "in": "path", "required": True, "type": "string"}]),
     lambda d: d.paths.path[0].value.get.parameters[0].parameter.non_body_parameter.WhichOneof("oneof"),
     "path_parameter_sub_schema"),
    ("query-parameter-with-items", _op(parameters=[{
        "name": "q", "in": "query", "type": "array", "items": {"type": "string"},
        "collectionFormat": "multi", "uniqueItems": True}]),
     lambda d: d.paths.path[0].value.get.parameters[0].parameter.non_body_parameter.WhichOneof("oneof"),
     "query_parameter_sub_schema"),
    ("header-parameter", _op(parameters=[{"name": "h", "in": "header", "type": "integer", "maximum": 3}]),
     lambda d: d.paths.path[0].value.get.parameters[0].parameter.non_body_parameter.WhichOneof("oneof"),
     "header_parameter_sub_schema"),
    ("referenced-parameter", _op(parameters=[{"$ref": "#/parameters/p"}]),
     lambda d: d.paths.path[0].value.get.parameters[0].WhichOneof("oneof"), "json_reference"),
    ("file-response", _op(responses={"200": {"description": "OK", "schema": {"type": "file"}},
                                     "x-note": "n"}),
     lambda d: d.paths.path[0].value.get.responses.response_code[0].value.response.schema.WhichOneof("oneof"),
     "file_schema"),
    ("referenced-response", _op(responses={"404": {"$ref": "#/responses/missing"}}),
     lambda d: d.paths.path[0].value.get.responses.response_code[0].value.WhichOneof("oneof"),
     "json_reference"),
    ("security", _document(security=[{"BearerToken": []}], securityDefinitions={
        "BearerToken": {"type": "apiKey", "name": "authorization", "in": "header"},
        "Basic": {"type": "basic"},
        "OAuth": {"type": "oauth2", "flow": "accessCode", "authorizationUrl": "a", "tokenUrl": "t",
                  "scopes": {"read": "reads"}}}),
     lambda d: [i.value.WhichOneof("oneof") for i in d.security_definitions.additional_properties],
     ["api_key_security", "basic_authentication_security", "oauth2_access_code_security"]),
    ("paths-extensions-and-tags", _document(paths={"x-p": 1, "/a": {}}, tags=[{"name": "t"}],
                                            externalDocs={"url": "u"}, **{"x-top": {"a": [1, 2.5]}}),
     lambda d: [p.name for p in d.paths.path], ["/a"]),
]


@pytest.mark.parametrize(("document", "probe", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_shapes_decode_to_the_gnostic_choice_and_back(
        document_class: type[Message], document: dict[str, Any], probe: Any, expected: Any) -> None:
    decoded, back = _round_trip(document_class, document)
    assert probe(decoded) == expected
    assert back == document


def test_served_forms_share_the_json_etag_and_are_made_once() -> None:
    forms = openapi_v2.served_forms(RESOURCES)
    assert forms is openapi_v2.served_forms(RESOURCES)
    assert forms.etag == hashlib.sha512(forms.json).hexdigest().upper()
    protobuf = forms.body(protobuf=True, gzipped=False)
    assert protobuf is forms.body(protobuf=True, gzipped=False)
    assert protobuf == encode_document(forms.document)
    assert gzip.decompress(forms.body(protobuf=True, gzipped=True)) == protobuf
    assert gzip.decompress(forms.body(protobuf=False, gzipped=True)) == forms.json
    with_crd = openapi_v2.served_forms((*RESOURCES, _crontab()))
    assert with_crd.etag != forms.etag
