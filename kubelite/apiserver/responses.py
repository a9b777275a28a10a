"""Turning objects, lists and errors into HTTP responses.

Cached objects are already encoded (watchcache.Entry.raw); a LIST is those bytes
written inside a list envelope, a chunk at a time (list_stream.py), so serving 10,000
pods costs neither 10,000 encodes nor a 15 MB body per LIST in flight. Only when the
client asked for another version, a Table or YAML are objects re-encoded, and then the
body is built whole.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import orjson
from aiohttp import web

from kubelite.api.catalogue import ResourceSpec
from kubelite.api.conversion import convert
from kubelite.apiserver.list_stream import StreamedList
from kubelite.apiserver.negotiation import JSON, Accept, encode
from kubelite.apiserver.printers import table_for
from kubelite.apiserver.watchcache import Entry
from kubelite.machinery import errors

Obj = dict[str, Any]

LIST_TAIL = b"]}"


def json_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None
                  ) -> web.Response:
    return web.Response(body=body, status=status, content_type=JSON, headers=headers)


def object_response(obj: Obj, accept: Accept, status: int = 200,
                    headers: dict[str, str] | None = None) -> web.Response:
    body, ctype = encode(obj, accept)
    return web.Response(body=body, status=status, content_type=ctype, headers=headers)


def status_response(err: errors.StatusError) -> web.Response:
    headers = {"Retry-After": str(err.retry_after)} if err.retry_after else None
    return json_response(orjson.dumps(err.to_status()), err.code, headers)


def success_status(spec: ResourceSpec, obj: Obj) -> Obj:
    """What DELETE returns for a kind whose deleted object is not echoed back."""
    meta = obj.get("metadata", {})
    details: Obj = {"name": meta.get("name", ""), "kind": spec.plural}
    if spec.group:
        details["group"] = spec.group
    if meta.get("uid"):
        details["uid"] = meta["uid"]
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "details": details}


def crd_columns(spec: ResourceSpec, version: str) -> list[Obj] | None:
    if spec.crd_schemas is None:
        return None
    return (spec.printer_columns or {}).get(version)


def to_table(spec: ResourceSpec, version: str, objs: Sequence[Obj], accept: Accept) -> Obj:
    return table_for(spec.group, spec.kind, list(objs), include_object=accept.include_object,
                     now=datetime.datetime.now(datetime.UTC),
                     crd_columns=crd_columns(spec, version))


def entry_object(spec: ResourceSpec, version: str, entry: Entry) -> Obj:
    """The object as the client's version shows it (a private copy)."""
    obj = entry.obj
    if entry.api_version == spec.gvk(version).api_version:
        return obj
    return convert(spec, obj, version)


def entry_bytes(spec: ResourceSpec, version: str, entry: Entry) -> bytes:
    """The object's JSON as the client's version shows it: the cached bytes, unless
    the client asked for another version than the stored one."""
    if entry.api_version == spec.gvk(version).api_version:
        return entry.raw
    return orjson.dumps(convert(spec, entry.obj, version))


def single_response(spec: ResourceSpec, version: str, entry: Entry, accept: Accept,
                    status: int = 200) -> web.Response:
    if not (accept.table or accept.partial_metadata or accept.yaml):
        return json_response(entry_bytes(spec, version, entry), status)
    obj = entry_object(spec, version, entry)
    if accept.table:
        return object_response(to_table(spec, version, [obj], accept), accept, status)
    if accept.partial_metadata:
        return object_response(partial_metadata(obj), accept, status)
    return object_response(obj, accept, status)


def partial_metadata(obj: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {})}


def list_response(spec: ResourceSpec, version: str, entries: Sequence[Entry], revision: int,
                  continue_token: str, remaining: int | None, accept: Accept
                  ) -> web.StreamResponse:
    """A page of a LIST as the client asked for it. The plain JSON list of the stored
    version is streamed from the entries' cached bytes (list_stream.py); Tables,
    partial metadata, YAML and other versions build their body whole."""
    list_meta: Obj = {"resourceVersion": str(revision)}
    if continue_token:
        list_meta["continue"] = continue_token
    if remaining is not None and continue_token:
        list_meta["remainingItemCount"] = remaining
    if accept.table or accept.partial_metadata or accept.yaml:
        objs = [entry_object(spec, version, e) for e in entries]
        if accept.table:
            table = to_table(spec, version, objs, accept)
            table["metadata"] = list_meta
            return object_response(table, accept)
        if accept.partial_metadata:
            body = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                    "metadata": list_meta, "items": [partial_metadata(o) for o in objs]}
            return object_response(body, accept)
        body = {"kind": spec.list_kind, "apiVersion": spec.gvk(version).api_version,
                "metadata": list_meta, "items": objs}
        return object_response(body, accept)
    api_version = spec.gvk(version).api_version
    head = orjson.dumps({"kind": spec.list_kind, "apiVersion": api_version,
                         "metadata": list_meta})[:-1] + b',"items":['
    if all(e.api_version == api_version for e in entries):
        # Every item is its cached bytes: stream them rather than build the body.
        return StreamedList(head, entries, LIST_TAIL)
    # Another version: converted items are built, so the body is built with them.
    items = b",".join(entry_bytes(spec, version, e) for e in entries)
    return json_response(head + items + LIST_TAIL)
