"""A recorder with upstream's events rule (create, update, patch: the scheduler's and the
nodes' roles have no get) still counts a repeated event."""

from __future__ import annotations

from kubelite.apiserver.app import APIServer
from kubelite.client.events import create_or_count
from kubelite.client.rest import Client
from kubelite.client.transport import HTTPTransport


async def test_a_repeat_is_counted_without_reading_the_event(secured: APIServer) -> None:
    admin = Client(HTTPTransport(secured.url, token="admin-token"))
    bob = Client(HTTPTransport(secured.url, token="bob-token"))
    try:
        await admin.create("clusterroles", {
            "metadata": {"name": "event-recorder"},
            "rules": [{"apiGroups": ["", "events.k8s.io"], "resources": ["events"],
                       "verbs": ["create", "update", "patch"]}]})
        await admin.create("clusterrolebindings", {
            "metadata": {"name": "bob-records"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                        "name": "event-recorder"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]})
        event = {"metadata": {"name": "web.1", "namespace": "default"},
                 "involvedObject": {"kind": "Pod", "name": "web", "namespace": "default"},
                 "reason": "BackOff", "message": "Back-off restarting failed container",
                 "type": "Warning", "count": 1, "firstTimestamp": "2026-12-08T00:00:00Z",
                 "lastTimestamp": "2026-12-08T00:00:00Z"}
        await create_or_count(bob, event)
        await create_or_count(bob, {**event, "lastTimestamp": "2026-12-08T00:00:10Z"})
        stored = await admin.get("events", "web.1", namespace="default")
        assert (stored["count"], stored["lastTimestamp"]) == (2, "2026-12-08T00:00:10Z")
    finally:
        await admin.close()
        await bob.close()
