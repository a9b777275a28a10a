from __future__ import annotations

from typing import Any

import orjson

from kubelite.apiserver.watchcache import make_entry


def decoded_event(name: str) -> dict[str, Any]:
    """An Event as the cache decodes it: every string a new object."""
    return orjson.loads(orjson.dumps({
        "apiVersion": "v1", "kind": "Event",
        "metadata": {"name": name, "namespace": "default", "labels": {"tier": "web"}},
        "involvedObject": {"kind": "Pod", "name": name}, "reason": "Scheduled"}))


def fields(obj: dict[str, Any]) -> dict[str, str]:
    return {"involvedObject.kind": obj["involvedObject"]["kind"], "reason": obj["reason"]}


def test_entries_of_different_objects_share_their_repeated_selector_values() -> None:
    a = make_entry(decoded_event("a"), 1, fields)
    b = make_entry(decoded_event("b"), 2, fields)
    assert a.fields == {"metadata.name": "a", "metadata.namespace": "default",
                        "involvedObject.kind": "Pod", "reason": "Scheduled"}
    assert a.namespace is b.namespace and a.api_version is b.api_version
    assert a.labels == {"tier": "web"} and a.labels["tier"] is b.labels["tier"]
    assert all(a.fields[k] is b.fields[k] for k in ("involvedObject.kind", "reason"))
    assert orjson.loads(a.raw) == decoded_event("a")
