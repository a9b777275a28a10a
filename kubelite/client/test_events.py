"""EventRecorder against a real API server: what `kubectl describe` reads back."""

from __future__ import annotations

from kubelite.client.events import EventRecorder
from kubelite.client.rest import Client


async def test_an_event_names_its_object_and_repeats_add_to_its_count(client: Client) -> None:
    rs = await client.create("replicasets.apps", {
        "metadata": {"name": "web"},
        "spec": {"selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}},
        namespace="default")
    recorder = EventRecorder(client, "replicaset-controller", host="cm-1")
    for _ in range(3):
        recorder.event(rs, "Normal", "SuccessfulCreate", "Created pod: web-abcde")
        await recorder.wait_idle()
    recorder.event(rs, "Warning", "FailedCreate", "Error creating: quota")
    await recorder.wait_idle()
    selector = f"involvedObject.uid={rs['metadata']['uid']}"
    events = (await client.list("events", namespace="default", field_selector=selector))["items"]
    by_reason = {e["reason"]: e for e in events}
    assert sorted(by_reason) == ["FailedCreate", "SuccessfulCreate"]
    created = by_reason["SuccessfulCreate"]
    assert (created["count"], created["type"], created["message"]) == (
        3, "Normal", "Created pod: web-abcde")
    assert created["involvedObject"] == {
        "kind": "ReplicaSet", "apiVersion": "apps/v1", "name": "web", "namespace": "default",
        "uid": rs["metadata"]["uid"], "resourceVersion": rs["metadata"]["resourceVersion"]}
    assert (created["source"], created["reportingComponent"], created["reportingInstance"]) == (
        {"component": "replicaset-controller", "host": "cm-1"}, "replicaset-controller", "cm-1")


async def test_events_beyond_the_pending_limit_are_dropped_not_queued(client: Client) -> None:
    recorder = EventRecorder(client, "test", max_pending=2)
    obj = {"kind": "ConfigMap", "apiVersion": "v1",
           "metadata": {"name": "cm", "namespace": "default", "uid": "u"}}
    for i in range(5):
        recorder.event(obj, "Normal", "Reason", f"message {i}")
    await recorder.wait_idle()
    events = (await client.list("events", namespace="default"))["items"]
    assert sorted(e["message"] for e in events) == ["message 0", "message 1"]


async def test_many_events_about_one_object_aggregate_then_stop_as_spam(client: Client) -> None:
    """client-go's correlator: 9 events, then one aggregate counting up to the burst of
    25; the rest are dropped."""
    recorder = EventRecorder(client, "replicaset-controller")
    obj = {"kind": "ReplicaSet", "apiVersion": "apps/v1",
           "metadata": {"name": "big", "namespace": "default", "uid": "u-big"}}
    for i in range(40):
        recorder.event(obj, "Normal", "SuccessfulCreate", f"Created pod: big-{i}")
        await recorder.wait_idle()
    events = (await client.list("events", namespace="default",
                                field_selector="involvedObject.uid=u-big"))["items"]
    single = sorted(e["message"] for e in events if e["count"] == 1)
    assert single == sorted(f"Created pod: big-{i}" for i in range(9))
    [combined] = [e for e in events if e["message"].startswith("(combined")]
    assert (combined["count"], combined["message"]) == (
        16, "(combined from similar events): Created pod: big-24")
