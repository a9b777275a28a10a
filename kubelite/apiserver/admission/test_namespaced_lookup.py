"""NamespacedLookup against a real registry: what was stored before the lookup is
found, whatever the cache had shown, and namespaces are kept apart."""

from __future__ import annotations

from kubelite.apiserver.admission.namespaced_lookup import NamespacedLookup
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions


async def test_an_object_stored_just_before_is_found(registry: Registry) -> None:
    lookup = NamespacedLookup(stores=registry, cache=registry.cache, group="",
                              plural="limitranges")
    for namespace in ("team", "other"):
        await registry.store_for("", "namespaces").create(
            "", {"metadata": {"name": namespace}}, WriteOptions())
    assert await lookup.list("team") == []
    # Past the TTL, an empty answer is looked up again once the cache caught up.
    lookup.clock = lambda: 1e12
    await registry.store_for("", "limitranges").create(
        "team", {"metadata": {"name": "lr"}, "spec": {"limits": []}}, WriteOptions())
    found = await lookup.list("team")
    assert [lr["metadata"]["name"] for lr in found] == ["lr"]
    assert await lookup.list("other") == []
