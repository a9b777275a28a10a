"""Content negotiation: what a request body is, and what the client wants back.

kubelite speaks JSON (and YAML on the way in and, when asked, out). Bodies may also
come in Kubernetes protobuf, which kubectl's and helm's typed clients send for
built-in kinds; they are decoded into the same JSON objects. Clients that prefer
protobuf answers always list JSON as an alternative, so they get JSON. `kubectl get` asks for a server-side Table with
`application/json;as=Table;v=v1;g=meta.k8s.io`.

Limits on what a body may be, so no body can crash or stall the server: 3 MiB, as
upstream (413), and the nesting, aliasing and YAML values body_shape describes (400).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from kubelite.api import protobuf
from kubelite.apiserver.body_shape import MAX_DEPTH, check_shape, too_deep
from kubelite.machinery import errors

MAX_BODY_BYTES = 3 * 1024 * 1024  # upstream's request size limit

JSON = "application/json"
YAML = "application/yaml"
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH)


@dataclass(slots=True)
class Accept:
    table: bool = False
    yaml: bool = False
    include_object: str = "Metadata"  # for tables: None, Metadata, Object
    partial_metadata: bool = False


def parse_accept(header: str, include_object: str = "") -> Accept:
    """Pick the first acceptable media type from the Accept header."""
    if not header:
        return Accept()
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        params = dict(f.split("=", 1) for f in fields[1:] if "=" in f)
        if media in (JSON, "*/*", "application/*", YAML):
            as_ = params.get("as")
            if as_ == "Table":
                if params.get("g", "meta.k8s.io") != "meta.k8s.io" or \
                        params.get("v", "v1") not in ("v1", "v1beta1"):
                    continue
                return Accept(table=True, include_object=include_object or "Metadata")
            if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList"):
                return Accept(partial_metadata=True)
            if as_:
                continue
            return Accept(yaml=media == YAML)
    raise errors.NotAcceptable(
        "only the following media types are accepted: application/json, application/yaml, "
        "application/json;as=Table;v=v1;g=meta.k8s.io")


def media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateField(key)
        out[key] = value
    return out


class _DuplicateField(ValueError):
    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


def decode_body(body: bytes, content_type: str, *, strict: bool = False) -> Any:
    """Parse a JSON or YAML body. Malformed input is a 400 with the parser's reason.
    `strict` also rejects duplicate fields (fieldValidation=Strict)."""
    if len(body) > MAX_BODY_BYTES:
        raise errors.RequestEntityTooLarge(
            f"Request entity too large: limit is {MAX_BODY_BYTES}")
    media = media_type(content_type) if content_type else JSON
    if media in (YAML, APPLY_PATCH, "application/x-yaml", "text/yaml"):
        return check_shape(_decode_yaml(body), from_yaml=True)
    if media == protobuf.CONTENT_TYPE:
        # kubectl's and helm's typed clients send built-in kinds as protobuf.
        try:
            return protobuf.decode_object(body)
        except protobuf.DecodeError as exc:
            raise errors.BadRequest(
                f"the object provided is unrecognized or malformed: {exc}") from None
    if media not in (JSON, JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, "", "*/*"):
        raise errors.UnsupportedMediaType(
            f'the body of the request was in an unknown format - accepted media types '
            f'include: application/json, application/yaml, {protobuf.CONTENT_TYPE}')
    try:
        if strict:
            if b"\\u" in body:
                orjson.loads(body)  # refuses a lone UTF-16 surrogate, which json keeps
            decoded = json.loads(body, object_pairs_hook=_reject_duplicates,
                                 parse_int=_json_int)
        else:
            decoded = orjson.loads(body)
    except _DuplicateField as dup:
        raise errors.BadRequest(
            f'strict decoding error: json: duplicate field "{dup.field}"') from None
    except RecursionError:
        raise too_deep() from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.BadRequest(
            f"the object provided is unrecognized or malformed: {exc}") from None
    # Fewer brackets than the limit cannot nest deeper than it: most bodies skip the walk.
    if body.count(b"[") + body.count(b"{") > MAX_DEPTH:
        check_shape(decoded)
    return decoded


def _json_int(text: str) -> int | float:
    """Go keeps an integer that fits 64 bits and makes a float of a bigger one, as
    orjson does on the other path; the store could not encode it otherwise."""
    value = int(text)
    return value if -(2**63) <= value < 2**64 else float(value)


_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present


def _decode_yaml(body: bytes) -> Any:
    try:
        return yaml.load(body, Loader=_YAML_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise errors.BadRequest(f"error converting YAML to JSON: {exc}") from None
    except RecursionError:
        raise too_deep() from None


def encode(obj: Any, accept: Accept) -> tuple[bytes, str]:
    if accept.yaml:
        return yaml.safe_dump(obj, sort_keys=False).encode(), YAML
    return orjson.dumps(obj), JSON
