"""Service reservations: the repair controller, through an in-process API server."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import orjson

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.registry.allocators import IP_PREFIX, PORT_PREFIX, REPAIR_KEY
from kubelite.client.rest import Client
from kubelite.machinery.timestamps import now_rfc3339

WAIT = 10.0


def reservation(key: str, made: str, owner_uid: str) -> bytes:
    return orjson.dumps({
        "kind": "ServiceReservation",
        "metadata": {"name": key.rsplit("/", 1)[1], "creationTimestamp": made},
        "service": {"namespace": "default", "name": "lost", "uid": owner_uid}})


async def store_raw(server: APIServer, key: str, value: bytes) -> None:
    rev = await server.backend.create(key, value)
    assert await server.cache.wait_for(rev)


async def repaired(server: APIServer) -> None:
    """Ask for one repair pass and wait until it has run."""
    controller = server.reservation_repair
    queue = controller.queue
    controller.enqueue(REPAIR_KEY)

    async def idle() -> None:
        while len(queue) or queue.is_processing(REPAIR_KEY):
            await asyncio.sleep(0.005)
    await asyncio.wait_for(idle(), WAIT)


def reserved(server: APIServer, prefix: str) -> set[str]:
    bucket = server.cache.bucket(server.cache.prefix_of(prefix + "x"))
    return {key.removeprefix(prefix) for key in bucket}


async def test_leaked_reservations_are_released_and_owned_or_recent_ones_kept(
        server: APIServer, client: Client) -> None:
    svc: dict[str, Any] = await client.create("services", {
        "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "ports": [{"port": 80}]}}, namespace="default")
    ip, port = svc["spec"]["clusterIP"], str(svc["spec"]["ports"][0]["nodePort"])
    long_ago = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
                ).strftime("%Y-%m-%dT%H:%M:%SZ")
    await store_raw(server, IP_PREFIX + "10.43.7.7", reservation(IP_PREFIX + "10.43.7.7",
                                                                 long_ago, "crashed-uid"))
    await store_raw(server, PORT_PREFIX + "31999", reservation(PORT_PREFIX + "31999",
                                                               long_ago, "crashed-uid"))
    # Made a moment ago: its Service may still be on its way to the store.
    await store_raw(server, IP_PREFIX + "10.43.8.8", reservation(IP_PREFIX + "10.43.8.8",
                                                                 now_rfc3339(), "new-uid"))

    await repaired(server)
    assert "10.43.7.7" not in reserved(server, IP_PREFIX)
    assert "31999" not in reserved(server, PORT_PREFIX)
    assert {ip, "10.43.8.8"} <= reserved(server, IP_PREFIX)
    assert port in reserved(server, PORT_PREFIX)

    before = (reserved(server, IP_PREFIX), reserved(server, PORT_PREFIX))
    await repaired(server)  # a second pass finds nothing more to release
    assert (reserved(server, IP_PREFIX), reserved(server, PORT_PREFIX)) == before


async def test_deleting_a_service_releases_its_reservations(
        server: APIServer, client: Client) -> None:
    svc = await client.create("services", {
        "metadata": {"name": "web"},
        "spec": {"type": "NodePort", "ports": [{"port": 80}]}}, namespace="default")
    ip, port = svc["spec"]["clusterIP"], str(svc["spec"]["ports"][0]["nodePort"])
    await client.delete("services", "web", namespace="default")

    async def released() -> None:
        while ip in reserved(server, IP_PREFIX) or port in reserved(server, PORT_PREFIX):
            await asyncio.sleep(0.005)
    await asyncio.wait_for(released(), WAIT)
