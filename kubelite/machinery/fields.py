"""Field selectors (`?fieldSelector=`), parsed and matched as apimachinery's `fields` package.

A selector is comma-joined terms `field=value`, `field==value` or `field!=value`, all ANDed.
Values may carry `\\,`, `\\=` and `\\\\` escapes (`fields.EscapeValue`); a bare `,` splits
terms, a bare `=` inside a value or an unknown escape is an error. Field names take no
escapes: the first operator in a term splits it. Empty terms are skipped, so `""` selects
everything.

Guarantees, matching upstream:
- terms are sorted (as raw strings) before parsing, so `requirements()` and `str()` are
  deterministic; `str()` re-escapes values;
- a field missing from the object reads as `""` (so `a=` matches objects without `a` and
  `a!=x` matches them too);
- errors raise `BadRequest` with upstream's text; `check_fields` gives the 400 that
  kube-apiserver returns for a field a resource cannot be selected by.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from kubelite.machinery.errors import BadRequest

EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="

# "==" before "=" so a double equals never leaves a stray "=" at the front of the value
_OPERATORS = (NOT_EQUALS, DOUBLE_EQUALS, EQUALS)


def escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_value(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out: list[str] = []
    in_slash = False
    for ch in value:
        if in_slash:
            if ch not in "\\,=":
                raise BadRequest(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch in ",=":
            # upstream prints the rune with %v, i.e. as its code point number
            raise BadRequest(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if in_slash:
        raise BadRequest("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(selector: str) -> list[str]:
    """Split on commas that are not backslash-escaped; escapes stay in the terms."""
    if not selector:
        return []
    terms: list[str] = []
    start, in_slash = 0, False
    for i, ch in enumerate(selector):
        if in_slash:
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch == ",":
            terms.append(selector[start:i])
            start = i + 1
    terms.append(selector[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in _OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


@dataclass(frozen=True, slots=True)
class Requirement:
    field: str
    operator: str  # "=" (also for "=="), or "!="
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field, "")
        return have == self.value if self.operator == EQUALS else have != self.value

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{escape_value(self.value)}"


class FieldSelector:
    """An AND of field requirements; immutable."""

    __slots__ = ("_requirements",)

    def __init__(self, requirements: Iterable[Requirement] = ()) -> None:
        self._requirements = tuple(requirements)

    def requirements(self) -> list[tuple[str, str, str]]:
        """(field, operator, value) triples; the operator is "=" or "!="."""
        return [(r.field, r.operator, r.value) for r in self._requirements]

    def is_empty(self) -> bool:
        return not self._requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(r.matches(fields) for r in self._requirements)

    def requires_exact_match(self, field: str) -> str | None:
        for r in self._requirements:
            if r.field == field and r.operator == EQUALS:
                return r.value
        return None

    def check_fields(self, supported: Collection[str]) -> None:
        """Raise upstream's 400 for the first field the resource cannot be selected by."""
        for r in self._requirements:
            if r.field not in supported:
                raise BadRequest(f"field label not supported: {r.field}")

    def __str__(self) -> str:
        return ",".join(str(r) for r in self._requirements)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSelector):
            return NotImplemented
        return self._requirements == other._requirements

    def __hash__(self) -> int:
        return hash(self._requirements)


def parse(selector: str) -> FieldSelector:
    """fields.ParseSelector."""
    reqs: list[Requirement] = []
    for part in sorted(_split_terms(selector)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise BadRequest(f"invalid selector: '{selector}'; can't understand '{part}'")
        lhs, op, rhs = split
        operator = NOT_EQUALS if op == NOT_EQUALS else EQUALS  # "==" is stored as "="
        reqs.append(Requirement(lhs, operator, unescape_value(rhs)))
    return FieldSelector(reqs)


def everything() -> FieldSelector:
    return FieldSelector()


def selector_from_set(fields: Mapping[str, str] | None) -> FieldSelector:
    return FieldSelector(Requirement(k, EQUALS, v) for k, v in sorted((fields or {}).items()))
