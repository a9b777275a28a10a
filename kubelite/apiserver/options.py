"""Query options shared by the write verbs: dryRun, fieldManager, fieldValidation."""

from __future__ import annotations

from aiohttp import web

from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.routing import RequestInfo
from kubelite.machinery import errors


def write_options(request: web.Request, info: RequestInfo) -> WriteOptions:
    q = request.query
    dry_run = q.getall("dryRun", [])
    for value in dry_run:
        if value != "All":
            raise errors.BadRequest(
                f'dryRun: Unsupported value: "{value}": supported values: "All"')
    manager = q.get("fieldManager", "")
    if len(manager) > 128:
        raise errors.invalid("", "PatchOptions", "", [errors.Cause(
            "FieldValueTooLong", "Too long: may not be more than 128 bytes",
            "fieldManager")])
    if not manager:
        # Upstream names an unnamed writer after its user agent (kubectl/v1.35 ...).
        manager = request.headers.get("User-Agent", "unknown").split("/", 1)[0][:128]
    return WriteOptions(dry_run=bool(dry_run), field_manager=manager,
                        subresource=info.subresource)


def field_validation(request: web.Request) -> str:
    value = request.query.get("fieldValidation", "")
    if value not in ("", "Ignore", "Warn", "Strict"):
        raise errors.BadRequest(
            f'fieldValidation: Unsupported value: "{value}": supported values: "Ignore", '
            f'"Strict", "Warn"')
    return value or "Warn"
