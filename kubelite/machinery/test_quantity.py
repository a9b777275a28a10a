from __future__ import annotations

from fractions import Fraction

import pytest

from kubelite.machinery.quantity import (
    ERR_FORMAT_WRONG,
    ERR_SUFFIX,
    MAX_INT64,
    Format,
    Quantity,
    parse_json,
    parse_quantity,
)

DSI, BSI, DEX = Format.DECIMAL_SI, Format.BINARY_SI, Format.DECIMAL_EXPONENT
KI = 1024


def F(m: int, e: int = 0) -> Fraction:
    return Fraction(m) * Fraction(10) ** e


# Upstream quantity_test.go TestQuantityParse: input -> (exact value, format).
PARSE_TABLE = [
    ("0", F(0), DSI), ("0n", F(0), DSI), ("0u", F(0), DSI), ("0m", F(0), DSI),
    ("0Ki", F(0), BSI), ("0k", F(0), DSI), ("0Mi", F(0), BSI), ("0M", F(0), DSI),
    ("0Gi", F(0), BSI), ("0G", F(0), DSI), ("0Ti", F(0), BSI), ("0T", F(0), DSI),
    ("1", F(1), DSI),
    ("1Ki", F(KI), BSI), ("8Ki", F(8 * KI), BSI), ("7Mi", F(7 * KI**2), BSI),
    ("6Gi", F(6 * KI**3), BSI), ("5Ti", F(5 * KI**4), BSI), ("4Pi", F(4 * KI**5), BSI),
    ("3Ei", F(3 * KI**6), BSI), ("10Ti", F(10 * KI**4), BSI), ("100Ti", F(100 * KI**4), BSI),
    ("5n", F(5, -9), DSI), ("4u", F(4, -6), DSI), ("3m", F(3, -3), DSI), ("9", F(9), DSI),
    ("8k", F(8, 3), DSI), ("50k", F(5, 4), DSI), ("7M", F(7, 6), DSI), ("6G", F(6, 9), DSI),
    ("5T", F(5, 12), DSI), ("40T", F(4, 13), DSI), ("300T", F(3, 14), DSI),
    ("2P", F(2, 15), DSI), ("1E", F(1, 18), DSI),
    ("1E-3", F(1, -3), DEX), ("1e3", F(1, 3), DEX), ("1E6", F(1, 6), DEX),
    ("1e9", F(1, 9), DEX), ("1E12", F(1, 12), DEX), ("1e15", F(1, 15), DEX),
    ("1E18", F(1, 18), DEX), ("1e14", F(1, 14), DEX), ("1e13", F(1, 13), DEX),
    ("100.035k", F(100035), DSI),
    ("0.001", F(1, -3), DSI), ("0.0005k", F(5, -1), DSI), ("0.005", F(5, -3), DSI),
    ("0.05", F(5, -2), DSI), ("0.5", F(5, -1), DSI), ("0.00050k", F(5, -1), DSI),
    ("0.00500", F(5, -3), DSI), ("0.05000", F(5, -2), DSI), ("0.50000", F(5, -1), DSI),
    ("0.5e0", F(5, -1), DEX), ("0.5e-1", F(5, -2), DEX), ("0.5e-2", F(5, -3), DEX),
    ("10.035M", F(10035, 3), DSI),
    ("1.2e3", F(12, 2), DEX), ("1.3E+6", F(13, 5), DEX), ("1.40e9", F(14, 8), DEX),
    ("1.53E12", F(153, 10), DEX), ("1.6e15", F(16, 14), DEX), ("1.7E18", F(17, 17), DEX),
    ("9.01", F(901, -2), DSI), ("8.1k", F(81, 2), DSI), ("7.123456M", F(7123456), DSI),
    ("6.987654321G", F(6987654321), DSI), ("5.444T", F(5444, 9), DSI),
    ("40.1T", F(401, 11), DSI), ("300.2T", F(3002, 11), DSI), ("2.5P", F(25, 14), DSI),
    ("1.01E", F(101, 16), DSI),
    # things that saturate or round
    ("3.001n", F(4, -9), DSI), ("1.1E-9", F(2, -9), DEX), ("0.0000000001", F(1, -9), DSI),
    ("0.0000000005", F(1, -9), DSI), ("0.00000000050", F(1, -9), DSI),
    ("0.5e-9", F(1, -9), DEX), ("0.9n", F(1, -9), DSI), ("0.00000012345", F(124, -9), DSI),
    ("0.00000012354", F(124, -9), DSI), ("9Ei", F(MAX_INT64), BSI),
    ("9223372036854775807Ki", F(MAX_INT64), BSI), ("12E", F(12, 18), DSI),
    # fractional binary
    ("100.035Ki", F(10243584, -2), BSI), ("0.5Mi", F(KI**2 // 2), BSI),
    ("0.05Gi", F(536870912, -1), BSI), ("0.025Ti", F(274877906944, -1), BSI),
    # things written by trolls
    ("0.000000000001Ki", F(2, -9), DSI), (".001", F(1, -3), DSI), (".0001k", F(100, -3), DSI),
    ("1.", F(1), DSI), ("1.G", F(1, 9), DSI),
]


@pytest.mark.parametrize(("text", "value", "fmt"), PARSE_TABLE, ids=[t for t, _, _ in PARSE_TABLE])
def test_parse_value_and_format(text: str, value: Fraction, fmt: Format) -> None:
    q = parse_quantity(text)
    assert q.amount == value
    assert q.format == fmt
    negative = parse_quantity("-" + text)
    assert negative.amount == -value and negative.format == fmt
    positive = parse_quantity("+" + text)
    assert positive.amount == value and positive.format == fmt


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", ERR_FORMAT_WRONG), ("1.1.M", ERR_FORMAT_WRONG), ("1+1.0M", ERR_FORMAT_WRONG),
        ("0.1mi", ERR_SUFFIX), ("0.1am", ERR_FORMAT_WRONG), ("aoeu", ERR_FORMAT_WRONG),
        (".5i", ERR_SUFFIX), ("1i", ERR_SUFFIX), ("-3.01i", ERR_SUFFIX), ("-3.01e-", ERR_SUFFIX),
        ("1e4294967297", ERR_SUFFIX), ("1E2147483648", ERR_SUFFIX), (" 1", ERR_FORMAT_WRONG),
        ("1 ", ERR_FORMAT_WRONG), ("Non-Numeric", ERR_FORMAT_WRONG), ("1KiB", ERR_FORMAT_WRONG),
        ("1ki", ERR_SUFFIX), ("1m3", ERR_SUFFIX),
    ],
    ids=lambda v: repr(v)[:20],
)
def test_parse_rejects_with_upstream_message(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_quantity(text)
    assert str(info.value) == message


def test_format_error_message_is_upstreams() -> None:
    assert ERR_FORMAT_WRONG == (
        "quantities must match the regular expression "
        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    )


# Upstream TestQuantityString: (mantissa, exponent, format) -> canonical string.
STRING_TABLE = [
    (KI**3, 0, BSI, "1Gi"), (300 * KI**2, 0, BSI, "300Mi"), (6 * KI, 0, BSI, "6Ki"),
    (1001 * KI**3, 0, BSI, "1001Gi"), (KI**4, 0, BSI, "1Ti"), (5, 0, BSI, "5"),
    (500, -3, BSI, "500m"), (1, 9, DSI, "1G"), (1000, 6, DSI, "1G"), (1000000, 3, DSI, "1G"),
    (1000000000, 0, DSI, "1G"), (1, -3, DSI, "1m"), (80, -3, DSI, "80m"),
    (1080, -3, DSI, "1080m"), (108, -2, DSI, "1080m"), (10800, -4, DSI, "1080m"),
    (300, 6, DSI, "300M"), (1, 12, DSI, "1T"), (1, 18, DSI, "1E"), (1, 21, DSI, "1e21"),
    (5, 21, DSI, "5e21"), (1, 24, DSI, "1e24"), (1, 70, BSI, "10e69"), (2, 70, BSI, "20e69"),
    (1, 72, BSI, "1e72"), (1234567, 6, DSI, "1234567M"), (1234567, -3, BSI, "1234567m"),
    (3, 3, DSI, "3k"), (1025, 0, BSI, "1025"), (0, 0, DSI, "0"), (0, 0, BSI, "0"),
    (1, 9, DEX, "1e9"), (1, -3, DEX, "1e-3"), (1, -9, DEX, "1e-9"), (80, -3, DEX, "80e-3"),
    (300, 6, DEX, "300e6"), (1, 12, DEX, "1e12"), (1, 3, DEX, "1e3"), (3, 3, DEX, "3e3"),
    (0, 0, DEX, "0"), (1, -9, DSI, "1n"), (80, -9, DSI, "80n"), (1080, -9, DSI, "1080n"),
    (108, -8, DSI, "1080n"), (10800, -10, DSI, "1080n"), (1, -6, DSI, "1u"),
    (80, -6, DSI, "80u"), (1080, -6, DSI, "1080u"), (2000, 0, BSI, "2000"),
    (1, -12, DSI, "1e-12"), (1, -10, DSI, "100e-12"),
]


@pytest.mark.parametrize(("m", "e", "fmt", "text"), STRING_TABLE,
                         ids=[f"{m}e{e}-{f.value}" for m, e, f, _ in STRING_TABLE])
def test_canonical_string(m: int, e: int, fmt: Format, text: str) -> None:
    q = Quantity(m, e, fmt)
    assert str(q) == text
    if m:
        assert str(-q) == "-" + text
    if e >= -9:  # parse-stable: the canonical string reads back to the same value
        assert parse_quantity(text) == q


@pytest.mark.parametrize(
    ("text", "alternate"),
    [("1Gi", "1024Mi"), ("300Mi", "307200Ki"), ("1001Gi", "1025024Mi"), ("1Ti", "1024Gi"),
     ("5", "5000m"), ("500m", "0.5"), ("1G", "1000M"), ("1G", "0.001T"), ("1m", "1000u"),
     ("1080m", "1.08"), ("1080m", "1080000000n"), ("1e21", "1000E"), ("5e21", "5000E"),
     ("1e9", ".001e12"), ("1e-3", "0.001e0"), ("1e-9", "1000e-12"), ("0", "00")],
    ids=lambda v: v,
)
def test_alternate_spellings_print_canonically(text: str, alternate: str) -> None:
    assert str(parse_quantity(alternate)) == text


# Upstream TestQuantityParseEmit.
@pytest.mark.parametrize(
    ("text", "emitted"),
    [("1Ki", "1Ki"), ("1Mi", "1Mi"), ("1Gi", "1Gi"), ("1024Mi", "1Gi"), ("1000M", "1G"),
     (".001Ki", "1024m"), (".000001Ki", "1024u"), (".000000001Ki", "1024n"),
     (".000000000001Ki", "2n"), ("1000m", "1"), ("1.5Gi", "1536Mi"), ("1.5", "1500m"),
     ("0.5Ki", "512"), ("100.035Ki", "102435840m"), ("9Ei", "9223372036854775807")],
    ids=lambda v: v,
)
def test_parse_then_emit(text: str, emitted: str) -> None:
    assert str(parse_quantity(text)) == emitted
    assert str(parse_quantity("-" + text)) == "-" + emitted


@pytest.mark.parametrize(
    ("text", "string", "canonical"),
    [("+1", "+1", "1"), ("01", "01", "1"), ("1E3", "1E3", "1e3"), ("1e+3", "1e+3", "1e3"),
     ("12E", "12E", "12E"), ("1Ki", "1Ki", "1Ki"), ("+1Ki", "+1Ki", "1Ki"),
     ("8Ki", "8Ki", "8Ki"), ("1000M", "1G", "1G")],
    ids=lambda v: v,
)
def test_string_keeps_fast_path_literal_like_upstream(text: str, string: str, canonical: str) -> None:
    q = parse_quantity(text)
    assert str(q) == string
    assert q.canonical() == canonical


def test_arithmetic_results_print_canonically() -> None:
    q = parse_quantity("+1") + parse_quantity("0")
    assert str(q) == "1"


# Upstream TestQuantityCmp plus a few across formats.
@pytest.mark.parametrize(
    ("x", "y", "expect"),
    [("0", "0", 0), ("100m", "50m", 1), ("50m", "100m", -1), ("10000T", "100Gi", 1),
     ("1Ki", "1024", 0), ("1k", "1Ki", -1), ("-1", "1m", -1), ("-2", "-1", -1),
     ("1e2147483647", "9Ei", 1), ("-1e2147483647", "-1", -1), ("1e-3", "1m", 0)],
    ids=lambda v: str(v),
)
def test_cmp(x: str, y: str, expect: int) -> None:
    a, b = parse_quantity(x), parse_quantity(y)
    assert a.cmp(b) == expect
    assert b.cmp(a) == -expect
    assert (a == b) is (expect == 0)
    assert (a < b) is (expect < 0)


@pytest.mark.parametrize(
    ("text", "value", "milli"),
    [("0", 0, 0), ("1", 1, 1000), ("1m", 1, 1), ("1500m", 2, 1500), ("1.5", 2, 1500),
     ("0.1m", 1, 1), ("1n", 1, 1), ("-1.5", -2, -1500), ("-1n", -1, -1), ("1Ki", 1024, 1024000),
     ("2Gi", 2 * KI**3, 2 * KI**3 * 1000), ("9.01", 10, 9010), ("1e3", 1000, 1000000)],
    ids=lambda v: str(v),
)
def test_value_and_milli_value_round_up_away_from_zero(text: str, value: int, milli: int) -> None:
    q = parse_quantity(text)
    assert q.value() == value
    assert q.milli_value() == milli


def test_add_adopts_other_format_when_left_is_zero() -> None:
    zero = parse_quantity("0")
    for text in ("100m", "1Gi"):
        value = parse_quantity(text)
        assert str(value + zero) == text
        assert str(zero + value) == text
        assert str(value - zero) == text
        assert str(zero - value) == "-" + text


@pytest.mark.parametrize(
    ("a", "b", "total"),
    [("100m", "900m", "1"), ("1Gi", "512Mi", "1536Mi"), ("1", "1m", "1001m"),
     ("1Ki", "-1Ki", "0"), ("1.5", "2.5", "4"), ("1Gi", "1", "1073741825")],
    ids=lambda v: v,
)
def test_add_is_exact(a: str, b: str, total: str) -> None:
    assert str(parse_quantity(a) + parse_quantity(b)) == total


def test_negation_keeps_format() -> None:
    q = Quantity(901, -2, DSI)
    assert str(-q) == "-9010m"
    assert str(q) == "9010m"


def test_constructors() -> None:
    assert str(Quantity.from_int(2048, BSI)) == "2Ki"
    assert str(Quantity.from_milli(1500)) == "1500m"
    assert str(Quantity.from_milli(500, BSI)) == "500m"


def test_quantities_hash_by_value() -> None:
    assert len({parse_quantity("1"), parse_quantity("1000m"), parse_quantity("1e0")}) == 1


@pytest.mark.parametrize(
    ("raw", "text"),
    [("100m", "100m"), (2, "2"), (0.5, "500m"), (1e3, "1k"), (" 1Gi ", "1Gi")],
    ids=lambda v: repr(v),
)
def test_parse_json_accepts_strings_and_numbers(raw: object, text: str) -> None:
    assert str(parse_json(raw)) == text


@pytest.mark.parametrize("raw", [True, None, [], float("inf"), float("nan")], ids=repr)
def test_parse_json_rejects_other_types(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_json(raw)
