"""Cron schedules, with robfig/cron's cases (parser_test.go, spec_test.go)."""

from __future__ import annotations

import datetime

import pytest

from kubelite.controllers.cron_schedule import ScheduleError, parse_schedule


def at(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text).astimezone(datetime.UTC)


@pytest.mark.parametrize(("spec", "zone", "after", "want"), [
    pytest.param("* * * * *", None, "2012-07-09T14:45:00Z", "2012-07-09T14:46:00Z", id="every-minute"),
    pytest.param("* * * * *", None, "2012-07-09T14:45:30Z", "2012-07-09T14:46:00Z", id="mid-minute"),
    pytest.param("0 * * * *", None, "2012-07-09T14:00:00Z", "2012-07-09T15:00:00Z", id="hourly"),
    pytest.param("@hourly", None, "2012-07-09T14:59:59Z", "2012-07-09T15:00:00Z", id="hourly-macro"),
    pytest.param("@daily", None, "2012-07-09T14:45:00Z", "2012-07-10T00:00:00Z", id="daily"),
    pytest.param("@midnight", None, "2012-12-31T23:59:00Z", "2013-01-01T00:00:00Z", id="year-wrap"),
    pytest.param("@weekly", None, "2026-01-01T00:00:00Z", "2026-01-04T00:00:00Z", id="weekly-sunday"),
    pytest.param("@monthly", None, "2026-01-31T12:00:00Z", "2026-02-01T00:00:00Z", id="monthly"),
    pytest.param("@yearly", None, "2026-03-01T00:00:00Z", "2027-01-01T00:00:00Z", id="yearly"),
    pytest.param("0 9 * * mon-fri", None, "2026-01-02T10:00:00Z", "2026-01-05T09:00:00Z",
                 id="weekdays-by-name"),
    pytest.param("0 0 1,15 * 3", None, "2026-01-01T00:00:00Z", "2026-01-07T00:00:00Z",
                 id="dom-or-dow"),
    pytest.param("0 0 */5 * *", None, "2026-01-02T00:00:00Z", "2026-01-06T00:00:00Z",
                 id="stepped-dom"),
    pytest.param("0 0 29 2 *", None, "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z", id="leap-day"),
    pytest.param("5/20 * * * *", None, "2026-01-01T00:30:00Z", "2026-01-01T00:45:00Z",
                 id="start-slash-step"),
    pytest.param("*/15 3-4 * JAN,jul ?", None, "2026-01-01T04:50:00Z", "2026-01-02T03:00:00Z",
                 id="mixed"),
    pytest.param("0 9 * * *", "America/New_York", "2026-01-01T00:00:00Z", "2026-01-01T14:00:00Z",
                 id="time-zone"),
    pytest.param("CRON_TZ=Asia/Tokyo 0 9 * * *", None, "2026-01-01T00:00:00Z",
                 "2026-01-02T00:00:00Z", id="cron-tz-prefix"),
    pytest.param("TZ=UTC 30 * * * *", None, "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z",
                 id="tz-prefix"),
    pytest.param("@every 1h30m", None, "2026-01-01T00:00:10.5Z", "2026-01-01T01:30:10Z",
                 id="every"),
])
def test_next_scheduled_time(spec: str, zone: str | None, after: str, want: str) -> None:
    assert parse_schedule(spec, zone).next(at(after)) == at(want)


def test_an_impossible_date_is_never_due() -> None:
    assert parse_schedule("0 0 30 2 *").next(at("2026-01-01T00:00:00Z")) is None


@pytest.mark.parametrize(("spec", "zone", "message"), [
    pytest.param("* * * *", None, "expected exactly 5 fields, found 4: [* * * *]", id="four-fields"),
    pytest.param("61 * * * *", None, "end of range (61) above maximum (59): 61", id="above-max"),
    pytest.param("* * 0 * *", None, "beginning of range (0) below minimum (1): 0", id="below-min"),
    pytest.param("* * * * 5-2", None, "beginning of range (5) beyond end of range (2): 5-2",
                 id="backwards"),
    pytest.param("*/0 * * * *", None, "step of range should be a positive number: */0", id="zero-step"),
    pytest.param("1/2/3 * * * *", None, "too many slashes: 1/2/3", id="slashes"),
    pytest.param("x * * * *", None, "failed to parse int from x", id="junk"),
    pytest.param("@fortnightly", None, "unrecognized descriptor: @fortnightly", id="descriptor"),
    pytest.param("@every soon", None, "failed to parse duration @every soon", id="duration"),
    pytest.param("* * * * *", "Mars/Olympus", "provided bad location Mars/Olympus", id="zone"),
])
def test_bad_schedules_say_why(spec: str, zone: str | None, message: str) -> None:
    with pytest.raises(ScheduleError, match="^" + message.replace("*", r"\*").replace("(", r"\(")
                       .replace(")", r"\)").replace("[", r"\[").replace("]", r"\]")):
        parse_schedule(spec, zone)
