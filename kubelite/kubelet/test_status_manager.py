"""The status manager against a real API server: writes on change only, builds on its
own last write while the informer lags, and restores what another writer changed."""

from __future__ import annotations

from typing import Any

from kubelite.client.rest import Client
from kubelite.kubelet.status_manager import StatusManager

Obj = dict[str, Any]


def _status(ready: str, start: str = "2026-03-01T12:00:00Z") -> Obj:
    return {"phase": "Running", "startTime": start, "hostIP": "192.0.2.1",
            "qosClass": "BestEffort",
            "conditions": [{"type": "Ready", "status": ready, "lastProbeTime": None,
                            "lastTransitionTime": start}]}


async def _pod(client: Client) -> Obj:
    return await client.create("pods", {"metadata": {"name": "p"}, "spec": {
        "nodeName": "n", "containers": [{"name": "c", "image": "i"}]}}, namespace="default")


async def test_a_status_is_written_once(client: Client) -> None:
    manager = StatusManager(client)
    pod = await _pod(client)
    assert await manager.set_status(pod, _status("True")) is True
    # the informer has not seen the write yet: the same status is not written again
    assert await manager.set_status(pod, _status("True")) is False
    assert manager.writes == 1
    current = await client.get("pods", "p", namespace="default")
    assert current["status"]["conditions"][0]["status"] == "True"
    assert await manager.set_status(current, _status("True")) is False


async def test_a_stale_pod_shows_the_status_last_posted(client: Client) -> None:
    manager = StatusManager(client)
    pod = await _pod(client)
    await manager.set_status(pod, {**_status("True"), "reason": "DeadlineExceeded"})
    effective = manager.effective(pod)
    assert effective["status"]["startTime"] == "2026-03-01T12:00:00Z"
    assert effective["status"]["reason"] == "DeadlineExceeded"
    current = await client.get("pods", "p", namespace="default")
    assert manager.effective(current) is current


async def test_what_another_writer_changed_is_written_back(client: Client) -> None:
    manager = StatusManager(client)
    await manager.set_status(await _pod(client), _status("True"))
    # the node lifecycle loop marks the pod not Ready
    await client.patch("pods", "p", {"status": {"conditions": [
        {"type": "Ready", "status": "False", "lastTransitionTime": "2026-03-01T12:05:00Z"}]}},
        namespace="default", subresource="status")
    marked = await client.get("pods", "p", namespace="default")
    assert await manager.set_status(marked, _status("True")) is True
    restored = await client.get("pods", "p", namespace="default")
    assert restored["status"]["conditions"][0]["status"] == "True"


async def test_a_pod_gone_or_replaced_is_not_written(client: Client) -> None:
    manager = StatusManager(client)
    pod = await _pod(client)
    await client.delete("pods", "p", namespace="default", grace_period_seconds=0)
    await _pod(client)  # a new pod of the same name
    assert await manager.set_status(pod, _status("True")) is False
    await manager.delete(pod)  # the uid precondition spares the new one
    assert (await client.get("pods", "p", namespace="default"))["metadata"]["uid"] != \
        pod["metadata"]["uid"]
