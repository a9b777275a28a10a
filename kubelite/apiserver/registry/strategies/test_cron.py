import pytest

from kubelite.apiserver.registry.strategies.cron import schedule_errors


@pytest.mark.parametrize(
    "schedule",
    ["* * * * *", "*/15 0-6 1,15 jan-mar mon-fri", "@hourly", "@every 1h30m", "0 0 ? * SUN"],
    ids=["stars", "ranges-names", "descriptor", "every", "question-mark"],
)
def test_valid_schedules(schedule):
    assert schedule_errors(schedule) == []


@pytest.mark.parametrize(
    ("schedule", "error"),
    [("@sometimes", "unrecognized descriptor: @sometimes"),
     ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
     ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
     ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
     ("5-2 * * * *", "beginning of range (5) beyond end of range (2): 5-2")],
    ids=["descriptor", "four-fields", "not-a-number", "day-zero", "reversed"],
)
def test_invalid_schedules(schedule, error):
    assert schedule_errors(schedule) == [error]
