"""What files a configMap, secret or downwardAPI source projects, as upstream's
configmap.MakePayload, secret.MakePayload and downwardapi.CollectData.

Pure functions of the objects: without `items` every key becomes a file of the
volume's defaultMode; with them only the listed keys, each at its path with its own
mode or the default. A key the object lacks fails, unless the source is optional,
with upstream's message. Modes are the API's decimal ints (420 is 0o644).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from kubelite.kubelet.volumes.atomic_writer import FileProjection
from kubelite.kubelet.volumes.downward import field_value, resource_value

Obj = dict[str, Any]

DEFAULT_MODE = 0o644  # the API's default defaultMode, 420


def _mode(value: Any, default: int) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0o777:
        return value
    return default


def default_mode(source: Obj) -> int:
    return _mode(source.get("defaultMode"), DEFAULT_MODE)


def _items(source: Obj) -> list[Obj]:
    return [i for i in source.get("items") or [] if isinstance(i, dict)]


def _project(data: Mapping[str, bytes], items: list[Obj], mode: int, optional: bool,
             missing: str) -> dict[str, FileProjection]:
    if not items:
        return {key: FileProjection(value, mode) for key, value in data.items()}
    payload: dict[str, FileProjection] = {}
    for item in items:
        key = str(item.get("key") or "")
        if key not in data:
            if optional:
                continue
            raise ValueError(f"{missing}: {key}")
        payload[str(item.get("path") or key)] = FileProjection(
            data[key], _mode(item.get("mode"), mode))
    return payload


def config_map_payload(config_map: Obj, items: list[Obj], mode: int,
                       optional: bool) -> dict[str, FileProjection]:
    data = {str(k): str(v).encode() for k, v in (config_map.get("data") or {}).items()}
    for key, value in (config_map.get("binaryData") or {}).items():
        data[str(key)] = _decode(str(value))
    return _project(data, items, mode, optional, "configmap references non-existent config key")


def secret_payload(secret: Obj, items: list[Obj], mode: int,
                   optional: bool) -> dict[str, FileProjection]:
    data = {str(k): _decode(str(v)) for k, v in (secret.get("data") or {}).items()}
    for key, value in (secret.get("stringData") or {}).items():  # never stored; harmless
        data[str(key)] = str(value).encode()
    return _project(data, items, mode, optional, "references non-existent secret key")


def _decode(value: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        return value.encode()


def downward_payload(items: list[Obj], pod: Obj, mode: int,
                     node_allocatable: Mapping[str, Any]) -> dict[str, FileProjection]:
    """Every item's text; the first field that cannot be read fails the lot."""
    payload: dict[str, FileProjection] = {}
    errors: list[str] = []
    for item in items:
        path = str(item.get("path") or "")
        item_mode = _mode(item.get("mode"), mode)
        try:
            if isinstance(item.get("fieldRef"), dict):
                text = field_value(pod, str(item["fieldRef"].get("fieldPath") or ""))
            elif isinstance(item.get("resourceFieldRef"), dict):
                ref = item["resourceFieldRef"]
                text = resource_value(ref, pod, str(ref.get("containerName") or ""),
                                      node_allocatable)
            else:
                text = ""
        except ValueError as e:
            errors.append(str(e))
            continue
        payload[path] = FileProjection(text.encode(), item_mode)
    if errors:
        raise ValueError(", ".join(errors))
    return payload


def source_items(source: Obj) -> list[Obj]:
    return _items(source)
