"""ServiceAddresses against a real registry on SQLite: claims are made on validate and
settled by the write's outcome."""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.service_addresses import ServiceAddresses
from kubelite.apiserver.registry import allocators
from kubelite.apiserver.registry.registry import Registry

Obj = dict[str, Any]


def service(spec: Obj) -> Obj:
    return {"metadata": {"name": "web", "namespace": "default", "uid": "u1"},
            "spec": {"ports": [{"port": 80}], **spec}}


def attrs(registry: Registry, svc: Obj, old: Obj | None = None) -> Attributes:
    resource = registry.store_for("", "services").spec
    operation = Operation.CREATE if old is None else Operation.UPDATE
    return Attributes(resource, operation, "default", "web", svc, old)


async def reserved(registry: Registry, key: str) -> bool:
    return await registry.backend.get(key) is not None


async def test_a_claimed_address_stays_once_the_service_is_stored(registry: Registry) -> None:
    plugin = ServiceAddresses(stores=registry, allocator=registry.services)
    svc = service({"clusterIP": "10.43.0.10"})
    finish = await plugin.validate(attrs(registry, svc))
    assert svc["spec"]["clusterIPs"] == ["10.43.0.10"]
    await finish(True)
    assert await reserved(registry, allocators.IP_PREFIX + "10.43.0.10")


async def test_a_claim_goes_back_when_the_write_does_not_happen(registry: Registry) -> None:
    plugin = ServiceAddresses(stores=registry, allocator=registry.services)
    svc = service({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}]})
    finish = await plugin.validate(attrs(registry, svc))
    ip = svc["spec"]["clusterIP"]
    assert await reserved(registry, allocators.PORT_PREFIX + "30080")
    await finish(False)
    assert not await reserved(registry, allocators.PORT_PREFIX + "30080")
    assert not await reserved(registry, allocators.IP_PREFIX + ip)


async def test_a_stored_update_gives_back_what_the_service_stopped_using(
        registry: Registry) -> None:
    plugin = ServiceAddresses(stores=registry, allocator=registry.services)
    old = service({"type": "NodePort", "ports": [{"port": 80, "nodePort": 30081}]})
    await (await plugin.validate(attrs(registry, old)))(True)
    new = service({"type": "ClusterIP", "clusterIP": old["spec"]["clusterIP"],
                   "clusterIPs": old["spec"]["clusterIPs"]})
    await (await plugin.validate(attrs(registry, new, old)))(True)
    assert not await reserved(registry, allocators.PORT_PREFIX + "30081")
    assert await reserved(registry, allocators.IP_PREFIX + old["spec"]["clusterIP"])
