"""Two API servers sharing one store each run their own ResourceQuota plugin (no shared
lock): the resourceVersion-guarded status write still lets only one of two creates take
the last unit; the other conflicts, rereads and is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.resourcequota import ResourceQuota
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.machinery import errors

Obj = dict[str, Any]


async def make_quota(registry: Registry, hard: dict[str, str]) -> None:
    await registry.store_for("", "namespaces").create("", {"metadata": {"name": "default"}},
                                                      WriteOptions())
    quotas = registry.store_for("", "resourcequotas")
    created = await quotas.create("default", {"metadata": {"name": "q"}, "spec": {"hard": hard}},
                                  WriteOptions())
    created["status"] = {"hard": hard, "used": {name: "0" for name in hard}}
    await quotas.update_status("default", "q", created)
    await quotas.sync_cache()


def pod_create(registry: Registry, name: str) -> Attributes:
    pod = {"metadata": {"name": name, "namespace": "default"},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    return Attributes(registry.store_for("", "pods").spec, Operation.CREATE, "default", name, pod)


async def test_two_servers_cannot_both_take_the_last_unit(registry: Registry) -> None:
    await make_quota(registry, {"pods": "1"})
    servers = [ResourceQuota(stores=registry, cache=registry.cache) for _ in range(2)]
    results = await asyncio.gather(
        *(server.validate(pod_create(registry, f"p{i}")) for i, server in enumerate(servers)),
        return_exceptions=True)
    refused = [r for r in results if isinstance(r, errors.Forbidden)]
    assert len(refused) == 1 and sum(r is None for r in results) == 1, results
    assert "exceeded quota: q, requested: pods=1, used: pods=1, limited: pods=1" in \
        refused[0].message
    stored = (await registry.store_for("", "resourcequotas").get("default", "q")).obj
    assert stored["status"]["used"] == {"pods": "1"}


@pytest.mark.parametrize("servers", [1, 3], ids=["one-server", "three-servers"])
async def test_many_creates_charge_exactly_what_fits(registry: Registry, servers: int) -> None:
    await make_quota(registry, {"pods": "4"})
    plugins = [ResourceQuota(stores=registry, cache=registry.cache) for _ in range(servers)]
    results = await asyncio.gather(
        *(plugins[i % servers].validate(pod_create(registry, f"p{i}")) for i in range(8)),
        return_exceptions=True)
    admitted = [r for r in results if r is None]
    # Retries are bounded (as upstream's three): a loser may get the Conflict itself,
    # never a charge past the limit.
    assert len(admitted) == 4, results
    assert all(isinstance(r, (errors.Forbidden, errors.Conflict)) for r in results if r)
    stored = (await registry.store_for("", "resourcequotas").get("default", "q")).obj
    assert stored["status"]["used"] == {"pods": "4"}
