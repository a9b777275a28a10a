"""Unknown and duplicate fields in request bodies (fieldValidation=Ignore|Warn|Strict).

kubectl sends fieldValidation=Strict when the server's OpenAPI v3 documents list the
parameter, and then relies on the server to reject a misspelt field with a 400
`strict decoding error: unknown field "spec.replicass"`. Warn answers with a Warning
header instead; Ignore drops nothing and says nothing. Custom resources are checked
against their CRD schema, built-ins against the pinned Kubernetes schemas.
"""

from __future__ import annotations

from typing import Any

from kubelite.api import schemas
from kubelite.api.catalogue import ResourceSpec
from kubelite.api.structural import unknown_fields
from kubelite.machinery import errors

Obj = dict[str, Any]


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
