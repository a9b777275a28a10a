"""Cron schedules as the CronJob controller's parser (robfig/cron ParseStandard) reads them.

Five fields (minute hour day-of-month month day-of-week) with `*`, `?`, lists, ranges,
steps and month/day names, or a descriptor (@yearly, @annually, @monthly, @weekly,
@daily, @midnight, @hourly, @every <duration>). `schedule_errors` returns the parser's
error text, which upstream puts after `spec.schedule: Invalid value: "...": `.
"""

from __future__ import annotations

import re

_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
_BOUNDS: tuple[tuple[int, int, dict[str, int]], ...] = (
           (0, 59, {}), (0, 23, {}), (1, 31, {}),
           (1, 12, {m: i + 1 for i, m in enumerate(
               ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}),
           (0, 6, {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}))
_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")


def schedule_errors(schedule: str) -> list[str]:
    text = schedule.strip()
    if text.startswith("@"):
        if text in _DESCRIPTORS:
            return []
        if text.startswith("@every "):
            duration = text[len("@every "):]
            if _DURATION.match(duration):
                return []
            return [f"failed to parse duration {text}: time: invalid duration {_go_quote(duration)}"]
        return [f"unrecognized descriptor: {text}"]
    fields = text.split()
    if len(fields) != 5:
        return [f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"]
    for field, (low, high, names) in zip(fields, _BOUNDS):
        for part in field.split(","):
            error = _range_error(part, low, high, names)
            if error:
                return [error]
    return []


def _range_error(expr: str, low: int, high: int, names: dict[str, int]) -> str:
    range_and_step = expr.split("/")
    if len(range_and_step) > 2:
        return f"too many slashes: {expr}"
    low_and_high = range_and_step[0].split("-")
    if low_and_high[0] in ("*", "?"):
        start, end = low, high
    else:
        start_or_error = _number(low_and_high[0], names)
        if isinstance(start_or_error, str):
            return start_or_error
        start = end = start_or_error
        if len(low_and_high) == 2:
            end_or_error = _number(low_and_high[1], names)
            if isinstance(end_or_error, str):
                return end_or_error
            end = end_or_error
        elif len(low_and_high) > 2:
            return f"too many hyphens: {expr}"
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], {})
        if isinstance(step, str):
            return step
        if step == 0:
            return f"step of range should be a positive number: {expr}"
    if start < low:
        return f"beginning of range ({start}) below minimum ({low}): {expr}"
    if end > high:
        return f"end of range ({end}) above maximum ({high}): {expr}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expr}"
    return ""


def _number(text: str, names: dict[str, int]) -> int | str:
    if text.lower() in names:
        return names[text.lower()]
    if re.fullmatch(r"[+-]?[0-9]+", text):
        value = int(text)
        if value < 0:
            return f"negative number ({value}) not allowed: {text}"
        return value
    return (f"failed to parse int from {text}: strconv.Atoi: parsing "
            f"{_go_quote(text)}: invalid syntax")


def _go_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
