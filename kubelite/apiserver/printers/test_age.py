from datetime import datetime, timedelta, timezone

import pytest

from kubelite.apiserver.printers.age import ZERO, human_duration, parse_time, short_human_duration, since, to_micros

S = 1_000_000
M = 60 * S
H = 60 * M


@pytest.mark.parametrize(
    ("micros", "want"),
    [
        (1 * S, "1s"),
        (70 * S, "70s"),
        (190 * S, "3m10s"),
        (300 * S, "5m"),
        (70 * M, "70m"),
        (3 * H + 5 * M, "3h5m"),
        (5 * H, "5h"),
        (47 * H, "47h"),
        (49 * H, "2d1h"),
        (72 * H, "3d"),
        ((8 * 24 + 2) * H, "8d"),
        (367 * 24 * H, "367d"),
        ((365 * 2 * 24 + 25) * H, "2y1d"),
        (365 * 3 * 24 * H, "3y"),
        ((365 * 8 * 24 + 2) * H, "8y"),
        (-1 * S, "0s"),
        (-1500 * 1000, "0s"),
        (-2 * S, "<invalid>"),
    ],
    ids=lambda v: str(v),
)
def test_human_duration_matches_upstream(micros: int, want: str) -> None:
    assert human_duration(micros) == want


@pytest.mark.parametrize(
    ("micros", "want"),
    [
        (59 * S, "59s"),
        (90 * S, "1m"),
        (59 * M, "59m"),
        (23 * H, "23h"),
        (49 * H, "2d"),
        (400 * 24 * H, "1y"),
        (-1 * S, "0s"),
        (-3 * S, "<invalid>"),
    ],
    ids=lambda v: str(v),
)
def test_short_human_duration_matches_upstream(micros: int, want: str) -> None:
    assert short_human_duration(micros) == want


def test_since_is_unknown_without_timestamp() -> None:
    now = to_micros(datetime(2024, 1, 1, tzinfo=timezone.utc))
    assert since(None, now) == "<unknown>"
    assert since("", now) == "<unknown>"
    assert since("not a time", now) == "<unknown>"


def test_parse_time_reads_rfc3339_and_micro_time() -> None:
    base = datetime(2024, 1, 1, tzinfo=timezone.utc)
    assert parse_time("2024-01-01T00:00:00Z") == to_micros(base)
    assert parse_time("2024-01-01T00:00:00.250000Z") == to_micros(base + timedelta(milliseconds=250))
    assert parse_time(None) == ZERO
