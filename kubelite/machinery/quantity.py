"""Resource quantities (`500m`, `1.5Gi`, `2e3`) with apimachinery's exact semantics.

A Quantity is an exact decimal `m * 10**e` (never a float) plus the Format its suffix chose:
DecimalSI (`m`, ``, `k`..`E`), BinarySI (`Ki`..`Ei`) or DecimalExponent (`e3`, `E-6`).
Parsing follows `resource.ParseQuantity`:

- non-zero values are rounded up (away from zero) to a whole nano, so `0.1n` is `1n`;
- BinarySI magnitudes are capped at 2**63-1; decimal ones are not;
- a BinarySI value strictly between -1 and 1 switches to DecimalSI.

`str()` is upstream's `String()`: the canonical form (no fraction digits, largest exponent
or suffix that loses nothing, `1.5` -> `1500m`, `1.5Gi` -> `1536Mi`, `1000m` -> `1`; BinarySI
prints in decimal below 1024 or when not whole). Like upstream it keeps the literal input
when that input took the parser's fast path, which only differs from canonical for
spellings such as `+1`, `01` or `1E3`. Past `E`/`Ei` (or below `n`) it falls back to
exponent notation, as upstream does since it stopped dropping the magnitude there.

`value()`/`milli_value()` round up away from zero; arithmetic and comparison are exact.
Errors are `ValueError` carrying upstream's message.
"""

from __future__ import annotations

import enum
import re
from fractions import Fraction
from typing import Any

SPLIT_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT_WRONG = f"quantities must match the regular expression '{SPLIT_RE}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

MAX_INT64 = 2**63 - 1
_MAX_INT32 = 2**31 - 1
# exponents past this would make exact integers of absurd size; no real quantity gets near
_MATERIALIZE_LIMIT = 4096


class Format(enum.StrEnum):
    DECIMAL_EXPONENT = "DecimalExponent"
    BINARY_SI = "BinarySI"
    DECIMAL_SI = "DecimalSI"


_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12,
                     "P": 15, "E": 18}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_DECIMAL_BY_EXP = {v: k for k, v in _DECIMAL_SUFFIXES.items()}
_BINARY_BY_EXP = {0: "", **{v // 10: k for k, v in _BINARY_SUFFIXES.items()}}
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")
_DIGITS = frozenset("0123456789")
_GO_INT = re.compile(r"[+-]?[0-9]+\Z")


def _interpret(suffix: str) -> tuple[int, int, Format]:
    """(base, exponent, format) for a suffix, or ValueError(ERR_SUFFIX)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], Format.DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], Format.BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE" and _GO_INT.match(suffix[1:]):
        exponent = int(suffix[1:])
        # the exponent lands in an int32 scale that is later negated
        if -_MAX_INT32 <= exponent <= _MAX_INT32:
            return 10, exponent, Format.DECIMAL_EXPONENT
    raise ValueError(ERR_SUFFIX)


def _scan(text: str) -> tuple[bool, str, str, str]:
    """parseQuantityString: (positive, num, denom, suffix); num has no leading zeros."""
    positive, pos, end = True, 0, len(text)
    if text[:1] in ("-", "+"):
        positive = text[0] == "+"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return positive, "0", "", ""
    start = pos
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos] in _DIGITS:
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise ValueError(ERR_FORMAT_WRONG)
    return positive, num, denom, text[suffix_start:]


def _strip_tens(m: int, e: int) -> tuple[int, int]:
    if m == 0:
        return 0, 0
    while m % 10 == 0:
        m //= 10
        e += 1
    return m, e


def _ndigits(m: int) -> int:
    return len(str(abs(m)))


class Quantity:
    """An immutable, exact Kubernetes quantity."""

    __slots__ = ("_m", "_e", "format", "_s")

    def __init__(self, mantissa: int = 0, exponent: int = 0,
                 format: Format = Format.DECIMAL_SI, *, literal: str = "") -> None:
        self._m, self._e = _strip_tens(mantissa, exponent)
        self.format = Format(format)
        self._s = literal  # the parsed text, kept only when it is upstream's cached form

    # --- construction -----------------------------------------------------------------

    @classmethod
    def from_int(cls, value: int, format: Format = Format.DECIMAL_SI) -> Quantity:
        return cls(value, 0, format)

    @classmethod
    def from_milli(cls, value: int, format: Format = Format.DECIMAL_SI) -> Quantity:
        return cls(value, -3, format)

    # --- reading ----------------------------------------------------------------------

    @property
    def amount(self) -> Fraction:
        """The exact value."""
        if abs(self._e) > _MATERIALIZE_LIMIT:
            raise OverflowError("quantity exponent too large to materialize")
        return Fraction(self._m) * Fraction(10) ** self._e

    def is_zero(self) -> bool:
        return self._m == 0

    def sign(self) -> int:
        return (self._m > 0) - (self._m < 0)

    def scaled_value(self, scale: int) -> int:
        """ceil(q / 10**scale), rounding away from zero (upstream's ScaledValue)."""
        if self._e - scale > _MATERIALIZE_LIMIT:
            raise OverflowError("quantity too large")
        if self._e >= scale:
            return int(self._m * 10 ** (self._e - scale))
        div = 10 ** (scale - self._e)
        q, r = divmod(abs(self._m), div)
        q += 1 if r else 0
        return int(q if self._m >= 0 else -q)

    def value(self) -> int:
        return self.scaled_value(0)

    def milli_value(self) -> int:
        return self.scaled_value(-3)

    # --- arithmetic and comparison ----------------------------------------------------

    def cmp(self, other: Quantity) -> int:
        a, b = self.sign(), other.sign()
        if a != b or a == 0:
            return (a > b) - (a < b)
        # same non-zero sign: compare orders of magnitude before building big integers
        adj_a, adj_b = _ndigits(self._m) + self._e, _ndigits(other._m) + other._e
        if adj_a != adj_b:
            return a if adj_a > adj_b else -a
        low = min(self._e, other._e)
        x, y = self._m * 10 ** (self._e - low), other._m * 10 ** (other._e - low)
        return int(x > y) - int(x < y)

    def __add__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        low, high = sorted((self._e, other._e))
        if high - low > _MATERIALIZE_LIMIT:
            raise OverflowError("quantities too far apart to add exactly")
        m = self._m * 10 ** (self._e - low) + other._m * 10 ** (other._e - low)
        # adding to zero adopts the other operand's format, as upstream's Add does
        return Quantity(m, low, other.format if self.is_zero() else self.format)

    def __sub__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self + (-other)

    def __neg__(self) -> Quantity:
        return Quantity(-self._m, self._e, self.format)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self.cmp(other) == 0

    def __lt__(self, other: Quantity) -> bool:
        return self.cmp(other) < 0

    def __le__(self, other: Quantity) -> bool:
        return self.cmp(other) <= 0

    def __gt__(self, other: Quantity) -> bool:
        return self.cmp(other) > 0

    def __ge__(self, other: Quantity) -> bool:
        return self.cmp(other) >= 0

    def __hash__(self) -> int:
        return hash((self._m, self._e))

    # --- printing ---------------------------------------------------------------------

    def canonical(self) -> str:
        """The canonical spelling, ignoring any literal kept from parsing."""
        if self._m == 0:
            return "0"
        if self.format == Format.BINARY_SI:
            # small or fractional binary values print in decimal rather than round
            small = self.cmp(_KI) < 0 and self.cmp(_MINUS_KI) > 0
            if not small and self._e >= 0:
                return self._binary()
            return self._decimal(Format.DECIMAL_SI)
        return self._decimal(self.format)

    def _decimal(self, fmt: Format) -> str:
        m, e = self._m, self._e
        shift = e % 3  # Python's % is non-negative: move down to a multiple of 3
        m, e = m * 10**shift, e - shift
        if fmt == Format.DECIMAL_SI and e in _DECIMAL_BY_EXP:
            return f"{m}{_DECIMAL_BY_EXP[e]}"
        return f"{m}" if e == 0 else f"{m}e{e}"

    def _binary(self) -> str:
        v = self._m * 10**self._e
        mag, k = abs(v), 0
        while mag >= 1024 and mag % 1024 == 0:
            mag //= 1024
            k += 1
        if k not in _BINARY_BY_EXP:
            # no binary suffix that large: print the exact value in exponent notation
            return Quantity(v, 0, Format.DECIMAL_EXPONENT).canonical()
        return f"{mag if v > 0 else -mag}{_BINARY_BY_EXP[k]}"

    def __str__(self) -> str:
        return self._s or self.canonical()

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def to_json(self) -> str:
        return str(self)


_KI = Quantity(1024)
_MINUS_KI = Quantity(-1024)


def _literal_if_fast(text: str, num: str, denom: str, exponent: int, fmt: Format) -> str:
    """The input text when upstream's fast path would cache it as the String() form."""
    if fmt == Format.BINARY_SI:
        if denom or exponent < 0:
            return ""
        precision = 15 - len(num) - (exponent * 3) // 10 - 1
        scale = 0
    else:
        precision = 18 - (len(num) + len(denom))
        scale = exponent
    if precision < 0:
        return ""
    scale -= len(denom)
    if scale < -9:
        return ""
    shifted = num + denom
    if fmt == Format.BINARY_SI:
        return text if exponent % 10 == 0 and int(shifted) & 7 != 0 else ""
    if scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0":
        return text
    return ""


def parse_quantity(text: str) -> Quantity:
    """resource.ParseQuantity."""
    if not text:
        raise ValueError(ERR_FORMAT_WRONG)
    if text == "0":
        return Quantity(0, 0, Format.DECIMAL_SI, literal="0")
    positive, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret(suffix)
    literal = _literal_if_fast(text, num, denom, exponent, fmt)

    m = int(num + denom) if (num + denom).strip("0") else 0
    e = -len(denom)
    if base == 10:
        e += exponent
    else:
        m <<= exponent
    m, e = _strip_tens(m, e)
    if m and e < -9:
        # round the magnitude up to whole nanos: asking for a sliver still gets something
        drop = -9 - e
        if drop > _ndigits(m) + 1:
            m = 1
        else:
            q, r = divmod(m, 10**drop)
            m = q + (1 if r else 0)
        e = -9
    if fmt == Format.BINARY_SI:
        if m and e >= 0 and (_ndigits(m) + e > 19 or m * 10**e > MAX_INT64):
            m, e = MAX_INT64, 0
        if m and e < 0 and m < 10**-e:
            fmt = Format.DECIMAL_SI  # 0 < |q| < 1 cannot be spelled in binary units
    return Quantity(m if positive else -m, e, fmt, literal=literal)


def parse_json(value: Any) -> Quantity:
    """A quantity as found in an object: a string, or a JSON number (the schema allows both)."""
    if isinstance(value, bool):
        raise ValueError(ERR_FORMAT_WRONG)
    if isinstance(value, int):
        return parse_quantity(str(value))
    if isinstance(value, float):
        return parse_quantity(repr(value).replace("inf", "x").replace("nan", "x"))
    if isinstance(value, str):
        return parse_quantity(value.strip())
    raise ValueError(ERR_FORMAT_WRONG)
