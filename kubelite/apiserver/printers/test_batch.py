from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers import table_for

NOW = datetime(2024, 6, 1, 12, 0, 0, tzinfo=timezone.utc)


def ago(seconds: float) -> str:
    return (NOW - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def job(spec: dict | None = None, status: dict | None = None, deleting: bool = False) -> dict:
    metadata = {"name": "pi", "creationTimestamp": ago(600)}
    if deleting:
        metadata["deletionTimestamp"] = ago(1)
    template = {"spec": {"containers": [{"name": "pi", "image": "perl"}]}}
    selector = {"matchLabels": {"batch.kubernetes.io/controller-uid": "u1"}}
    return {"metadata": metadata, "spec": {"template": template, "selector": selector, **(spec or {})}, "status": status or {}}


def cond(type_: str, status: str = "True") -> dict:
    return {"type": type_, "status": status}


@pytest.mark.parametrize(
    ("obj", "want"),
    [
        pytest.param(
            job({"completions": 1}, {"succeeded": 1, "startTime": ago(500), "completionTime": ago(440), "conditions": [cond("SuccessCriteriaMet"), cond("Complete")]}),
            ["Complete", "1/1", "60s"],
            id="complete",
        ),
        pytest.param(
            job({"completions": 3, "parallelism": 3}, {"succeeded": 1, "startTime": ago(200)}),
            ["Running", "1/3", "3m20s"],
            id="running",
        ),
        pytest.param(job({"parallelism": 2}, {"succeeded": 0}), ["Running", "0/1 of 2", ""], id="work-queue-not-started"),
        pytest.param(job({}, {}), ["Running", "0/1", ""], id="no-completions"),
        pytest.param(
            job({"completions": 2}, {"failed": 3, "startTime": ago(300), "conditions": [cond("FailureTarget"), cond("Failed")]}),
            ["Failed", "0/2", "5m"],
            id="failed",
        ),
        pytest.param(job({"completions": 1}, {"conditions": [cond("Suspended")]}), ["Suspended", "0/1", ""], id="suspended"),
        pytest.param(job({"completions": 1}, {"conditions": [cond("FailureTarget")]}), ["FailureTarget", "0/1", ""], id="failure-target"),
        pytest.param(job({"completions": 1}, {"conditions": [cond("Suspended")]}, deleting=True), ["Terminating", "0/1", ""], id="terminating"),
        pytest.param(
            job({"completions": 1}, {"conditions": [cond("Complete", "False"), cond("Complete")]}),
            ["Running", "0/1", ""],
            id="first-condition-of-a-type-decides",
        ),
    ],
)
def test_job_cells(obj: dict, want: list) -> None:
    cells = table_for("batch", "Job", [obj], now=NOW)["rows"][0]["cells"]
    assert cells[1:4] == want
    assert cells[0] == "pi" and cells[4] == "10m"
    assert cells[5:] == ["pi", "perl", "batch.kubernetes.io/controller-uid=u1"]


def test_job_columns() -> None:
    defs = table_for("batch", "Job", [], now=NOW)["columnDefinitions"]
    assert [(c["name"], c["priority"]) for c in defs] == [
        ("Name", 0),
        ("Status", 0),
        ("Completions", 0),
        ("Duration", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]


@pytest.mark.parametrize(
    ("spec", "status", "want"),
    [
        ({"schedule": "*/5 * * * *", "suspend": False}, {"active": [{"name": "j1"}], "lastScheduleTime": ago(90)}, ["*/5 * * * *", "<none>", "False", 1, "90s"]),
        ({"schedule": "@hourly", "timeZone": "Etc/UTC", "suspend": True}, {}, ["@hourly", "Etc/UTC", "True", 0, "<none>"]),
        ({"schedule": "@daily"}, {}, ["@daily", "<none>", "<unset>", 0, "<none>"]),
    ],
    ids=["active", "suspended-with-zone", "suspend-unset"],
)
def test_cron_job_cells(spec: dict, status: dict, want: list) -> None:
    spec = {
        **spec,
        "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}},
    }
    obj = {"metadata": {"name": "cj", "creationTimestamp": ago(7200)}, "spec": spec, "status": status}
    assert table_for("batch", "CronJob", [obj], now=NOW)["rows"][0]["cells"] == ["cj", *want, "120m", "c", "busybox", "<none>"]
