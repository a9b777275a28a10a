"""Cron schedules as the CronJob controller reads them (robfig/cron v3's ParseStandard and
SpecSchedule.Next, which upstream's controller uses).

Grammar: five fields, minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or
jan-dec) day-of-week (0-6 or sun-sat), each a list of `*`, `?`, `N`, `N-M`, with an
optional `/step` (`N/step` runs from N to the field's maximum); or a descriptor:
@yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, `@every <duration>`.
A `TZ=<zone> ` or `CRON_TZ=<zone> ` prefix names the time zone (the controller adds
one for spec.timeZone); otherwise times are UTC, the controller manager's zone.

Day matching as robfig (and Vixie cron): when day-of-month or day-of-week is a bare `*`
or `?`, a day must match both; otherwise either. Next(t) is the first matching whole
minute after t (seconds are always 0), searched on the zone's wall clock up to five
years ahead; None when nothing matches (`0 0 30 2 *`). A wall-clock time that a DST
change skips is read as Python's zoneinfo reads it (the offset before the change).
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass

DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
               "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
               "@hourly": "0 * * * *"}
MONTHS = {m: i + 1 for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul",
                                          "aug", "sep", "oct", "nov", "dec"))}
DAYS = {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}), (0, 23, {}), (1, 31, {}), (1, 12, MONTHS), (0, 6, DAYS))
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]*)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


class ScheduleError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Field:
    values: frozenset[int]
    star: bool  # a bare * or ?: matters for day matching only


@dataclass(frozen=True, slots=True)
class CronSchedule:
    minute: Field
    hour: Field
    dom: Field
    month: Field
    dow: Field
    zone: datetime.tzinfo

    def day_matches(self, day: datetime.datetime) -> bool:
        dom = day.day in self.dom.values
        dow = (day.weekday() + 1) % 7 in self.dow.values
        if self.dom.star or self.dow.star:
            return dom and dow
        return dom or dow

    def next(self, after: datetime.datetime) -> datetime.datetime | None:
        """The first scheduled time strictly after `after` (an aware datetime), in UTC."""
        wall = after.astimezone(self.zone).replace(tzinfo=None, microsecond=0)
        t = wall.replace(second=0) + datetime.timedelta(minutes=1)
        limit = t.year + 5
        while t.year <= limit:
            if t.month not in self.month.values:
                t = (t.replace(day=1, hour=0, minute=0) + datetime.timedelta(days=32)).replace(day=1)
            elif not self.day_matches(t):
                t = t.replace(hour=0, minute=0) + datetime.timedelta(days=1)
            elif t.hour not in self.hour.values:
                t = t.replace(minute=0) + datetime.timedelta(hours=1)
            elif t.minute not in self.minute.values:
                t += datetime.timedelta(minutes=1)
            else:
                return t.replace(tzinfo=self.zone).astimezone(datetime.UTC)
        return None


@dataclass(frozen=True, slots=True)
class EverySchedule:
    """`@every <duration>`: a constant delay, whole seconds, at least one."""
    delay: datetime.timedelta

    def next(self, after: datetime.datetime) -> datetime.datetime | None:
        return after.replace(microsecond=0) + self.delay


Schedule = CronSchedule | EverySchedule


def parse_schedule(spec: str, time_zone: str | None = None) -> Schedule:
    """Parse `spec`; `time_zone` (spec.timeZone) as if `CRON_TZ=<zone> ` preceded it.
    Raises ScheduleError (unknown zone, bad field) with robfig's wording."""
    text = spec.strip()
    zone: datetime.tzinfo = datetime.UTC
    if time_zone:
        text = f"CRON_TZ={time_zone} {text}"
    if text.startswith(("TZ=", "CRON_TZ=")):
        head, _, text = text.partition(" ")
        zone = load_zone(head.split("=", 1)[1])
        text = text.strip()
    if text.startswith("@every "):
        return EverySchedule(_parse_duration(text[len("@every "):].strip()))
    if text.startswith("@"):
        if text not in DESCRIPTORS:
            raise ScheduleError(f"unrecognized descriptor: {text}")
        text = DESCRIPTORS[text]
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    minute, hour, dom, month, dow = (_parse_field(f, *bounds) for f, bounds in zip(fields, BOUNDS))
    return CronSchedule(minute, hour, dom, month, dow, zone)


def load_zone(name: str) -> datetime.tzinfo:
    if name in ("UTC", ""):
        return datetime.UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"provided bad location {name}: unknown time zone {name}") from None


def _parse_field(text: str, low: int, high: int, names: dict[str, int]) -> Field:
    values: set[int] = set()
    star = False
    for part in text.split(","):
        range_and_step = part.split("/")
        if len(range_and_step) > 2:
            raise ScheduleError(f"too many slashes: {part}")
        low_and_high = range_and_step[0].split("-")
        if len(low_and_high) > 2:
            raise ScheduleError(f"too many hyphens: {part}")
        part_star = low_and_high[0] in ("*", "?")
        if part_star:
            start, end = low, high
        else:
            start = end = _number(low_and_high[0], names)
            if len(low_and_high) == 2:
                end = _number(low_and_high[1], names)
        step = 1
        if len(range_and_step) == 2:
            step = _number(range_and_step[1], {})
            if len(low_and_high) == 1:
                end = high  # N/step runs to the maximum
            if step > 1:
                part_star = False
        if start < low:
            raise ScheduleError(f"beginning of range ({start}) below minimum ({low}): {part}")
        if end > high:
            raise ScheduleError(f"end of range ({end}) above maximum ({high}): {part}")
        if start > end:
            raise ScheduleError(f"beginning of range ({start}) beyond end of range ({end}): {part}")
        if step == 0:
            raise ScheduleError(f"step of range should be a positive number: {part}")
        values.update(range(start, end + 1, step))
        star = star or part_star
    return Field(frozenset(values), star)


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdigit():
        raise ScheduleError(f"failed to parse int from {text}: strconv.Atoi: parsing "
                            f"\"{text}\": invalid syntax")
    return int(text)


def _parse_duration(text: str) -> datetime.timedelta:
    seconds = 0.0
    pos = 0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if match is None:
            raise ScheduleError(f"failed to parse duration @every {text}: time: invalid "
                                f"duration \"{text}\"")
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not text:
        raise ScheduleError("failed to parse duration @every : time: invalid duration \"\"")
    return datetime.timedelta(seconds=max(1, int(seconds)))  # robfig: whole seconds, at least 1
