import copy

import pytest

from kubelite.apiserver.registry.strategies import STRATEGIES

JOB = STRATEGIES[("batch", "jobs")]
CRONJOB = STRATEGIES[("batch", "cronjobs")]
UID = "0b5c7d8e-0000-4000-8000-000000000001"


def job(restart="Never"):
    return {"kind": "Job", "metadata": {"name": "pi", "namespace": "default", "uid": UID},
            "spec": {"template": {"spec": {"containers": [{"name": "pi", "image": "perl:5"}],
                                           "restartPolicy": restart}}}}


def created(strategy, obj):
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj


def test_minimal_job_defaults_and_generated_selector():
    obj = created(JOB, job())
    spec = obj["spec"]
    assert {k: spec[k] for k in ("completions", "parallelism", "backoffLimit", "completionMode",
                                 "suspend", "podReplacementPolicy")} == {
        "completions": 1, "parallelism": 1, "backoffLimit": 6, "completionMode": "NonIndexed",
        "suspend": False, "podReplacementPolicy": "TerminatingOrFailed"}
    assert spec["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": UID}}
    assert spec["template"]["metadata"]["labels"] == {
        "batch.kubernetes.io/controller-uid": UID, "batch.kubernetes.io/job-name": "pi",
        "controller-uid": UID, "job-name": "pi"}
    assert obj["status"] == {}
    assert obj["metadata"]["generation"] == 1
    assert JOB.validate(obj) == []


def test_job_with_default_restart_policy_is_rejected():
    obj = job()
    del obj["spec"]["template"]["spec"]["restartPolicy"]
    created(JOB, obj)
    assert [(c.field, c.message) for c in JOB.validate(obj)] == [
        ("spec.template.spec.restartPolicy", 'Unsupported value: "Always": supported values: "OnFailure", "Never"')]


def test_user_selector_without_manual_selector_is_not_auto_generated():
    obj = job()
    obj["spec"]["selector"] = {"matchLabels": {"app": "x"}}
    created(JOB, obj)
    assert ("spec.selector", "`selector` not auto-generated") in [
        (c.field, c.message.rsplit(": ", 1)[-1]) for c in JOB.validate(obj)]


def test_job_selector_and_template_are_immutable():
    old = created(JOB, job())
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:6"
    assert [c.field for c in JOB.validate_update(new, old)] == ["spec.template"]


def test_job_selectable_field():
    obj = created(JOB, job())
    obj["status"] = {"succeeded": 1}
    assert JOB.selectable_fields(obj) == {"status.successful": "1"}


def cronjob(schedule="*/5 * * * *"):
    return {"kind": "CronJob", "metadata": {"name": "c"},
            "spec": {"schedule": schedule, "jobTemplate": {"spec": {"template": {"spec": {
                "containers": [{"name": "c", "image": "busybox"}], "restartPolicy": "OnFailure"}}}}}}


def test_cronjob_defaults():
    obj = created(CRONJOB, cronjob())
    spec = obj["spec"]
    assert (spec["concurrencyPolicy"], spec["suspend"], spec["successfulJobsHistoryLimit"],
            spec["failedJobsHistoryLimit"]) == ("Allow", False, 3, 1)
    assert spec["jobTemplate"]["spec"]["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert "backoffLimit" not in spec["jobTemplate"]["spec"]
    assert CRONJOB.validate(obj) == []


@pytest.mark.parametrize(
    ("schedule", "message"),
    [("", "Required value"),
     ("every minute", 'Invalid value: "every minute": expected exactly 5 fields, found 2: [every minute]'),
     ("61 * * * *", 'Invalid value: "61 * * * *": end of range (61) above maximum (59): 61'),
     ("TZ=UTC 0 * * * *", 'Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, '
                          "use timeZone field instead")],
    ids=["missing", "words", "minute-61", "tz"],
)
def test_cronjob_schedule_errors(schedule, message):
    obj = created(CRONJOB, cronjob(schedule))
    assert [(c.field, c.message) for c in CRONJOB.validate(obj)] == [("spec.schedule", message)]
