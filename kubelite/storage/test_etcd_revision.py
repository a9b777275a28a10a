"""EtcdBackend.current_revision: shared between concurrent callers, never stale."""

from __future__ import annotations

import asyncio

from kubelite.storage.etcd import EtcdBackend


async def test_concurrent_callers_share_requests_and_see_prior_writes(
        etcd_endpoint: str, prefix: str) -> None:
    backend = EtcdBackend([etcd_endpoint])
    await backend.start()
    try:
        calls = 0
        original = backend._range

        async def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            return await original(*args, **kwargs)

        backend._range = counting  # type: ignore[method-assign]
        revisions = await asyncio.gather(*(backend.current_revision() for _ in range(50)))
        assert len(set(revisions)) == 1
        assert calls <= 2  # one request, or two when some callers arrived mid-flight
        # A write acknowledged before the call is always visible in its answer.
        for i in range(20):
            written = await backend.create(f"{prefix}k{i}", b"{}")
            seen = await asyncio.gather(backend.current_revision(),
                                        backend.current_revision())
            assert min(seen) >= written
    finally:
        await backend.close()
