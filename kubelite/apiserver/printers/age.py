"""Ages and durations as kubectl shows them: upstream's `duration.HumanDuration` and
`duration.ShortHumanDuration` (k8s.io/apimachinery/pkg/util/duration), exactly.

Time is handled as integer microseconds since the Unix epoch. A missing or zero
timestamp is `ZERO` (Go's zero `time.Time`, year 1), which sorts before every real time,
so "is this later than the last restart?" needs no special case. Parsing is cached:
in a list of pods most timestamps repeat (objects created by one controller burst), and
the hot path of a 10,000-row table is parsing.
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache

ZERO = -(2**62)  # Go's zero time.Time: before any real timestamp
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = 1_000_000
_MINUTE = 60 * _US
_HOUR = 60 * _MINUTE


def to_micros(moment: datetime) -> int:
    """A datetime as microseconds since the epoch (naive means UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * _US + delta.microseconds


@lru_cache(maxsize=8192)
def _parse(value: str) -> int | None:
    try:
        return to_micros(datetime.fromisoformat(value))
    except ValueError:
        return None


def parse_time(value: object) -> int:
    """An RFC 3339 timestamp (metav1.Time or MicroTime) as micros; ZERO when absent.

    An unparseable value also counts as absent: upstream could not have decoded it.
    """
    if not value or not isinstance(value, str):
        return ZERO
    parsed = _parse(value)
    return ZERO if parsed is None else parsed


def _whole_seconds(micros: int) -> int:
    # Go's int(d.Seconds()) truncates toward zero, also for negative durations.
    return int(micros / _US) if micros < 0 else micros // _US


def human_duration(micros: int) -> str:
    """duration.HumanDuration: ~2-3 significant figures ("5m30s", "3h12m", "2y45d")."""
    seconds = _whole_seconds(micros)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = micros // _MINUTE
    if minutes < 10:
        s = seconds % 60
        return f"{minutes}m" if s == 0 else f"{minutes}m{s}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = micros // _HOUR
    if hours < 8:
        m = minutes % 60
        return f"{hours}h" if m == 0 else f"{hours}h{m}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        h = hours % 24
        return f"{hours // 24}d" if h == 0 else f"{hours // 24}d{h}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if dy == 0 else f"{hours // 24 // 365}y{dy}d"
    return f"{hours // 24 // 365}y"


def short_human_duration(micros: int) -> str:
    """duration.ShortHumanDuration: one unit only ("45s", "12m", "3h", "20d", "2y")."""
    seconds = _whole_seconds(micros)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60:
        return f"{seconds}s"
    if (minutes := seconds // 60) < 60:
        return f"{minutes}m"
    if (hours := seconds // 3600) < 24:
        return f"{hours}h"
    if hours < 24 * 365:
        return f"{hours // 24}d"
    return f"{hours // 24 // 365}y"


def since(value: object, now: int) -> str:
    """translateTimestampSince: the age of a timestamp, "<unknown>" when unset."""
    moment = parse_time(value)
    if moment == ZERO:
        return "<unknown>"
    return human_duration(now - moment)


def short_since(value: object, now: int) -> str:
    """metatable.ConvertToHumanReadableDateType (custom resources' date columns)."""
    moment = parse_time(value)
    if moment == ZERO:
        return "<unknown>"
    return short_human_duration(now - moment)
