from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def ago(seconds: float, micro: bool = False) -> str:
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ"
    return (NOW - timedelta(seconds=seconds)).strftime(fmt)


def core_event(**fields) -> dict:
    return {
        "metadata": {"name": "web.17a"},
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{web}"},
        "type": "Normal",
        "reason": "Pulled",
        "message": "  Successfully pulled image  \n",
        "source": {"component": "kubelet", "host": "n1"},
        **fields,
    }


@pytest.mark.parametrize(
    ("obj", "want"),
    [
        pytest.param(
            core_event(firstTimestamp=ago(600), lastTimestamp=ago(60), count=4),
            ["60s", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, n1", "Successfully pulled image", "10m", 4, "web.17a"],
            id="classic",
        ),
        pytest.param(
            core_event(firstTimestamp=ago(600)),
            ["10m", "Normal", "Pulled", "pod/web", "spec.containers{web}", "kubelet, n1", "Successfully pulled image", "10m", 1, "web.17a"],
            id="last-seen-falls-back-to-first",
        ),
        pytest.param(
            core_event(
                eventTime=ago(300, micro=True),
                source={},
                reportingController="kubelite-scheduler",
                reportingInstance="",
                series={"count": 7, "lastObservedTime": ago(5, micro=True)},
                involvedObject={"kind": "Node"},
            ),
            ["5s", "Normal", "Pulled", "node", "", "kubelite-scheduler", "Successfully pulled image", "5m", 7, "web.17a"],
            id="series-and-event-time",
        ),
    ],
)
def test_core_event_cells(obj: dict, want: list) -> None:
    assert table_for("", "Event", [obj], now=NOW)["rows"][0]["cells"] == want


def test_events_api_event_prints_like_core_event() -> None:
    obj = {
        "metadata": {"name": "e1"},
        "regarding": {"kind": "Deployment", "name": "web"},
        "note": "Scaled up replica set web-abc to 3",
        "type": "Normal",
        "reason": "ScalingReplicaSet",
        "eventTime": ago(90, micro=True),
        "reportingController": "deployment-controller",
        "reportingInstance": "kubelite",
        "deprecatedCount": 2,
    }
    assert table_for("events.k8s.io", "Event", [obj], now=NOW)["rows"][0]["cells"] == [
        "90s",
        "Normal",
        "ScalingReplicaSet",
        "deployment/web",
        "",
        "deployment-controller, kubelite",
        "Scaled up replica set web-abc to 3",
        "90s",
        2,
        "e1",
    ]


def test_event_columns_put_wide_ones_at_priority_one() -> None:
    defs = table_for("", "Event", [], now=NOW)["columnDefinitions"]
    assert [(c["name"], c["priority"], c["format"]) for c in defs] == [
        ("Last Seen", 0, ""),
        ("Type", 0, ""),
        ("Reason", 0, ""),
        ("Object", 0, ""),
        ("Subobject", 1, ""),
        ("Source", 1, ""),
        ("Message", 0, ""),
        ("First Seen", 1, ""),
        ("Count", 1, ""),
        ("Name", 1, "name"),
    ]
