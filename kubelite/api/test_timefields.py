"""Timestamps of built-in objects are stored as kube-apiserver stores them."""

from __future__ import annotations

import pytest

from kubelite.api import timefields
from kubelite.api.catalogue import GVK
from kubelite.machinery import errors

LEASE = GVK("coordination.k8s.io", "v1", "Lease")
EVENT = GVK("", "v1", "Event")


def deployment_condition(t: str) -> dict:
    return {"status": {"conditions": [{"type": "Available", "lastUpdateTime": t}]}}


@pytest.mark.parametrize("gvk,build,read,sent,stored", [
    (LEASE, lambda t: {"spec": {"renewTime": t}}, lambda o: o["spec"]["renewTime"],
     "2024-05-06T07:08:09.123456789+00:00", "2024-05-06T07:08:09.123456Z"),
    (LEASE, lambda t: {"spec": {"acquireTime": t}}, lambda o: o["spec"]["acquireTime"],
     "2024-05-06T09:08:09+02:00", "2024-05-06T07:08:09.000000Z"),
    (EVENT, lambda t: {"lastTimestamp": t}, lambda o: o["lastTimestamp"],
     "2024-05-06T07:08:09.5+02:00", "2024-05-06T05:08:09Z"),
    (EVENT, lambda t: {"firstTimestamp": t}, lambda o: o["firstTimestamp"],
     "2024-05-06T07:08:09Z", "2024-05-06T07:08:09Z"),
    (GVK("apps", "v1", "Deployment"), deployment_condition,
     lambda o: o["status"]["conditions"][0]["lastUpdateTime"],
     "2024-05-06t07:08:09z", "2024-05-06T07:08:09Z"),
], ids=["microtime-nanos", "microtime-offset", "time-offset-fraction", "time-canonical",
        "time-in-a-list"])
def test_times_are_rewritten_to_utc(gvk: GVK, build, read, sent: str, stored: str) -> None:
    obj = build(sent)
    timefields.normalize(gvk, obj)
    assert read(obj) == stored


@pytest.mark.parametrize("value", ["yesterday", "2024-05-06", "2024-05-06T07:08:09", 12])
def test_a_value_that_is_not_an_rfc3339_time_is_bad_request(value: object) -> None:
    with pytest.raises(errors.BadRequest, match="lastTimestamp"):
        timefields.normalize(EVENT, {"lastTimestamp": value})


def test_null_times_and_objects_without_times_are_left_alone() -> None:
    obj = {"lastTimestamp": None, "message": "x"}
    timefields.normalize(EVENT, obj)
    assert obj == {"lastTimestamp": None, "message": "x"}
