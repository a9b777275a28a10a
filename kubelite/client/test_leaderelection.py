from __future__ import annotations

import asyncio

import pytest

from kubelite.client.leaderelection import LEASES, LeaderElector
from kubelite.client.rest import Client


def elector(client: Client, identity: str, events: list[str], **timing: float
            ) -> LeaderElector:
    async def lead() -> None:
        events.append(f"start:{identity}")
        await asyncio.Event().wait()  # lead until cancelled

    def stop() -> None:
        events.append(f"stop:{identity}")

    options = {"lease_duration": 2.0, "renew_deadline": 1.0, "retry_period": 0.05, **timing}
    return LeaderElector(client, name="ctrl", namespace="default", identity=identity,
                         on_started_leading=lead, on_stopped_leading=stop, **options)


async def until(cond, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async def poll() -> None:
        while not cond():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), timeout)


def test_timing_must_leave_room_to_stop_before_takeover() -> None:
    with pytest.raises(ValueError):
        LeaderElector(None, name="x", identity="a",  # type: ignore[arg-type]
                      on_started_leading=asyncio.sleep, lease_duration=5, renew_deadline=5)


async def test_one_of_two_candidates_leads_and_release_hands_over(client: Client) -> None:
    events: list[str] = []
    a, b = elector(client, "a", events), elector(client, "b", events)
    run_a = asyncio.create_task(a.run())
    await until(lambda: events == ["start:a"])
    run_b = asyncio.create_task(b.run())
    await until(lambda: b.get_leader() == "a")
    lease = await client.get(LEASES, "ctrl", namespace="default")
    assert lease["spec"]["holderIdentity"] == "a"
    assert lease["spec"]["leaseTransitions"] == 0
    assert lease["spec"]["leaseDurationSeconds"] == 2
    assert not b.is_leader()

    run_a.cancel()  # a stops: it releases, so b takes over without waiting 2 s
    await asyncio.gather(run_a, return_exceptions=True)
    await until(lambda: "start:b" in events)
    assert events == ["start:a", "stop:a", "start:b"]
    lease = await client.get(LEASES, "ctrl", namespace="default")
    assert lease["spec"]["holderIdentity"] == "b"
    assert lease["spec"]["leaseTransitions"] == 1
    run_b.cancel()
    await asyncio.gather(run_b, return_exceptions=True)
    released = await client.get(LEASES, "ctrl", namespace="default")
    assert not released["spec"].get("holderIdentity")


async def test_leader_renews_its_lease(client: Client) -> None:
    events: list[str] = []
    a = elector(client, "a", events)
    run = asyncio.create_task(a.run())
    try:
        await until(lambda: events == ["start:a"])
        first = (await client.get(LEASES, "ctrl", namespace="default"))["spec"]["renewTime"]
        await until(lambda: a._observed_spec.get("renewTime") != first)
        lease = await client.get(LEASES, "ctrl", namespace="default")
        assert lease["spec"]["acquireTime"] <= lease["spec"]["renewTime"]
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)


async def test_expired_lease_of_a_vanished_holder_is_taken_over(client: Client) -> None:
    await client.create(LEASES, {"metadata": {"name": "ctrl", "namespace": "default"},
                                 "spec": {"holderIdentity": "dead", "leaseDurationSeconds": 1,
                                          "leaseTransitions": 4}})
    events: list[str] = []
    b = elector(client, "b", events)
    run = asyncio.create_task(b.run())
    try:
        await until(lambda: events == ["start:b"])
        lease = await client.get(LEASES, "ctrl", namespace="default")
        assert lease["spec"]["holderIdentity"] == "b"
        assert lease["spec"]["leaseTransitions"] == 5
    finally:
        run.cancel()
        await asyncio.gather(run, return_exceptions=True)


async def test_leader_that_cannot_renew_stops_leading(client: Client) -> None:
    events: list[str] = []
    a = elector(client, "a", events, release_on_cancel=False)
    run = asyncio.create_task(a.run())
    await until(lambda: events == ["start:a"])
    # Someone else writes the lease: a's next renew sees another live holder.
    lease = await client.get(LEASES, "ctrl", namespace="default")
    lease["spec"]["holderIdentity"] = "usurper"
    await client.update(LEASES, lease)
    await asyncio.wait_for(run, 5)  # run() returns once leadership is lost
    assert events == ["start:a", "stop:a"]
