"""Secrets, ConfigMaps, Events, Endpoints, and the core and coordination kinds with
nothing to check (pkg/registry/core/*, pkg/registry/coordination/lease).

Secrets: `stringData` is folded into base64 `data` (as the v1 conversion does), type
defaults to Opaque and never changes, keys must be config keys, and the well-known types
need their keys. A value that is not base64 is refused as upstream's decoder refuses
it, with a 400 rather than a field cause. `immutable: true` freezes data on both kinds.
Events select on the fields `kubectl get events --field-selector` uses.
"""

from __future__ import annotations

import base64
from typing import Any

from kubelite.apiserver.registry.strategy import DefaultStrategy
from kubelite.machinery.errors import BadRequest, Cause
from kubelite.machinery.go_base64 import base64_error
from kubelite.machinery.go_json import cannot_be_handled
from kubelite.machinery.validation import is_config_map_key

from .causes import forbidden, immutable, invalid, required, too_long

Obj = dict[str, Any]
MAX_SIZE = 1024 * 1024
_REQUIRED_KEYS = {
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
}


def _key_causes(section: str, data: Any) -> list[Cause]:
    return [invalid(f"{section}[{key}]", key, msg)
            for key in (data or {}) for msg in is_config_map_key(key)]


def _immutable_causes(new: Obj, old: Obj) -> list[Cause]:
    if not old.get("immutable"):
        return []
    causes = []
    if not new.get("immutable"):
        causes.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for key in ("data", "binaryData", "stringData"):
        if (new.get(key) or {}) != (old.get(key) or {}):
            causes.append(forbidden(key, "field is immutable when `immutable` is set"))
    return causes


class SecretStrategy(DefaultStrategy):
    def default(self, secret: Obj) -> None:
        for key, value in (secret.get("data") or {}).items():
            error = base64_error(str(value).encode())
            if error:
                raise BadRequest(cannot_be_handled("Secret", "v1", error))
        string_data = secret.pop("stringData", None)
        if string_data:
            data = secret.setdefault("data", {})
            for key, value in string_data.items():
                data[key] = base64.b64encode(str(value).encode()).decode()
        if not secret.get("type"):
            secret["type"] = "Opaque"

    def validate(self, secret: Obj) -> list[Cause]:
        data = secret.get("data") or {}
        causes = _key_causes("data", data)
        for key in _REQUIRED_KEYS.get(secret.get("type", ""), ()):
            if key not in data:
                causes.append(required(f"data[{key}]"))
        if secret.get("type") == "kubernetes.io/service-account-token":
            annotations = (secret.get("metadata") or {}).get("annotations") or {}
            if not annotations.get("kubernetes.io/service-account.name"):
                causes.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
        if secret.get("type") == "kubernetes.io/basic-auth" and not (
                "username" in data or "password" in data):
            causes.append(required("data[username]"))
        size = sum(len(base64.b64decode(str(v) or "")) for v in data.values())
        if size > MAX_SIZE:
            causes.append(too_long("data", MAX_SIZE))
        return causes

    def selectable_fields(self, secret: Obj) -> dict[str, str]:
        return {"type": secret.get("type") or ""}

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = []
        if new.get("type") != old.get("type"):
            causes.append(immutable("type", new.get("type")))
        return causes + _immutable_causes(new, old)


class ConfigMapStrategy(DefaultStrategy):
    def validate(self, cm: Obj) -> list[Cause]:
        causes = _key_causes("data", cm.get("data")) + _key_causes("binaryData", cm.get("binaryData"))
        for key in (cm.get("data") or {}):
            if key in (cm.get("binaryData") or {}):
                causes.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        size = sum(len(k) + len(str(v)) for k, v in (cm.get("data") or {}).items())
        if size > MAX_SIZE:
            causes.append(too_long("", MAX_SIZE))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return _immutable_causes(new, old)


class EventStrategy(DefaultStrategy):
    allow_create_on_update = True

    def selectable_fields(self, event: Obj) -> dict[str, str]:
        # core/v1 shape; events.k8s.io/v1 calls involvedObject "regarding".
        involved = event.get("involvedObject") or event.get("regarding") or {}
        source = (event.get("source") or event.get("deprecatedSource") or {}).get("component") or ""
        return {
            "involvedObject.kind": involved.get("kind") or "",
            "involvedObject.namespace": involved.get("namespace") or "",
            "involvedObject.name": involved.get("name") or "",
            "involvedObject.uid": involved.get("uid") or "",
            "involvedObject.apiVersion": involved.get("apiVersion") or "",
            "involvedObject.resourceVersion": involved.get("resourceVersion") or "",
            "involvedObject.fieldPath": involved.get("fieldPath") or "",
            "reason": event.get("reason") or "",
            "reportingComponent": event.get("reportingComponent") or event.get("reportingController") or "",
            "source": source or event.get("reportingComponent") or event.get("reportingController") or "",
            "type": event.get("type") or "",
        }


class EndpointsStrategy(DefaultStrategy):
    allow_create_on_update = True

    def default(self, endpoints: Obj) -> None:
        for subset in endpoints.get("subsets") or ():
            for port in (subset or {}).get("ports") or ():
                if isinstance(port, dict) and not port.get("protocol"):
                    port["protocol"] = "TCP"


class ServiceAccountStrategy(DefaultStrategy):
    return_deleted_object = True


class PodTemplateStrategy(DefaultStrategy):
    return_deleted_object = True


class ResourceQuotaStrategy(DefaultStrategy):
    has_status = True
    return_deleted_object = True


class LimitRangeStrategy(DefaultStrategy):
    allow_create_on_update = True


class LeaseStrategy(DefaultStrategy):
    allow_create_on_update = True
