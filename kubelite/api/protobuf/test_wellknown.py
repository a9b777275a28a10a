import pytest

from kubelite.api.protobuf import wellknown, wire

DURATIONS = [  # (nanoseconds, Go's time.Duration.String())
    (0, "0s"), (1, "1ns"), (1500, "1.5µs"), (1_500_000, "1.5ms"), (10**9, "1s"),
    (90 * 10**9, "1m30s"), (3600 * 10**9, "1h0m0s"), (3723_500_000_000, "1h2m3.5s"),
    (-300_000_000, "-300ms"),
]


@pytest.mark.parametrize("ns,text", DURATIONS, ids=[t for _, t in DURATIONS])
def test_duration_formats_and_parses_like_go(ns: int, text: str) -> None:
    assert wellknown.format_duration(ns) == text
    assert wellknown.parse_duration(text) == ns


def test_duration_message_decodes_to_its_string() -> None:
    data = wire.varint_field(1, 5 * 60 * 10**9)
    assert wellknown.decode_duration(data) == "5m0s"


TIMES = [  # (seconds, nanos, micro, JSON)
    (1715000000, 123456789, False, "2024-05-06T12:53:20Z"),
    (1715000000, 123456789, True, "2024-05-06T12:53:20.123456Z"),
    (-1, 0, False, "1969-12-31T23:59:59Z"),
    (0, 0, False, None),
]


@pytest.mark.parametrize("seconds,nanos,micro,text", TIMES,
                         ids=["time-drops-fraction", "micro-time", "before-epoch", "zero-is-null"])
def test_time_decodes_to_rfc3339_utc(seconds: int, nanos: int, micro: bool, text: str | None) -> None:
    data = wire.varint_field(1, seconds) + wire.varint_field(2, nanos)
    assert wellknown.decode_time(data, micro=micro) == text


def test_int_or_string_decodes_by_its_type_field() -> None:
    assert wellknown.decode_int_or_string(wellknown.encode_int_or_string(8080)) == 8080
    assert wellknown.decode_int_or_string(wellknown.encode_int_or_string("http")) == "http"
    assert wellknown.decode_int_or_string(b"") == 0
