"""Label selectors: parse, match and print them exactly as apimachinery's `labels` package.

Grammar (upstream `labels.Parse`):

    selector    ::= requirement ("," requirement)*
    requirement ::= ["!"] KEY [ ("in" | "notin") "(" VALUES ")" | ("=" | "==" | "!=") VALUE ]

plus the `>`/`<` integer comparisons upstream also accepts. Whitespace separates tokens and
is otherwise ignored; `in`/`notin` are keywords only where an operator is expected, so a key
or value may be called `in`. Keys and values are validated as label keys/values.

Guarantees, matching upstream:
- requirements are kept sorted by key, so `str()` is canonical (values of `in`/`notin` print
  sorted too) and two spellings of one selector print the same;
- the empty string parses to the selector that matches everything; `nothing()` (what a
  missing `metav1.LabelSelector` converts to) matches no object at all;
- parse errors raise `BadRequest` carrying upstream's message, e.g.
  `unable to parse requirement: found '', expected: '('`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubelite.machinery.errors import BadRequest
from kubelite.machinery.validation import (
    field_error_string,
    go_quote,
    is_qualified_name,
    is_valid_label_value,
    join_messages,
)

# selection.Operator values, as upstream spells them
IN = "in"
NOT_IN = "notin"
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_INT64 = re.compile(r"[+-]?[0-9]+\Z")


def _parses_as_int64(value: str) -> bool:
    return bool(_INT64.match(value)) and -(2**63) <= int(value) < 2**63


@dataclass(frozen=True, slots=True)
class Requirement:
    """One `key op values` term. Build it with `new_requirement` to get upstream's checks."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (IN, EQUALS, DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (NOT_IN, NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            # a label value or bound that is not an int64 never matches
            if self.key not in labels or len(self.values) != 1:
                return False
            have, bound = labels[self.key], self.values[0]
            if not (_parses_as_int64(have) and _parses_as_int64(bound)):
                return False
            return int(have) > int(bound) if op == GREATER_THAN else int(have) < int(bound)
        return False

    def __str__(self) -> str:
        op = self.operator
        out = ("!" if op == DOES_NOT_EXIST else "") + self.key
        if op in (EXISTS, DOES_NOT_EXIST):
            return out
        out += {IN: " in ", NOT_IN: " notin ", GREATER_THAN: ">", LESS_THAN: "<"}.get(op, op)
        joined = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        return out + (f"({joined})" if op in (IN, NOT_IN) else joined)


def new_requirement(key: str, operator: str, values: Iterable[str] = ()) -> Requirement:
    """labels.NewRequirement: validate key, operator arity and values; BadRequest if wrong."""
    vals = tuple(values)
    errs: list[str] = []
    key_errs = is_qualified_name(key)
    if key_errs:
        errs.append(field_error_string("key", key, "; ".join(key_errs)))
    if operator in (IN, NOT_IN):
        if not vals:
            errs.append(field_error_string(
                "values", list(vals), "for 'in', 'notin' operators, values set can't be empty"))
    elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
        if len(vals) != 1:
            errs.append(field_error_string(
                "values", list(vals), "exact-match compatibility requires one single value"))
    elif operator in (EXISTS, DOES_NOT_EXIST):
        if vals:
            errs.append(field_error_string(
                "values", list(vals), "values set must be empty for exists and does not exist"))
    elif operator in (GREATER_THAN, LESS_THAN):
        if len(vals) != 1:
            errs.append(field_error_string(
                "values", list(vals), "for 'Gt', 'Lt' operators, exactly one value is required"))
        for i, v in enumerate(vals):
            if not _parses_as_int64(v):
                errs.append(field_error_string(
                    f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"))
    else:
        supported = ", ".join(f'"{o}"' for o in (*_BINARY_OPERATORS, EXISTS, DOES_NOT_EXIST))
        errs.append(f'operator: Unsupported value: "{operator}": supported values: {supported}')
    for i, v in enumerate(vals):
        value_errs = is_valid_label_value(v)
        if value_errs:
            errs.append(field_error_string(f"values[{i}][{key}]", v, "; ".join(value_errs)))
    if errs:
        raise BadRequest(join_messages(errs))
    return Requirement(key, operator, vals)


class Selector:
    """An AND of requirements; immutable. `nothing()` is the one selector matching no labels."""

    __slots__ = ("_requirements", "_nothing", "_pinned", "_others", "_hash")

    def __init__(self, requirements: Iterable[Requirement] = (), *, nothing: bool = False) -> None:
        # sorted by key (stable for equal keys) so the printed form is deterministic
        self._requirements = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = nothing
        # `key=value` terms, the usual ones (matchLabels), checked as plain lookups: a
        # ReplicaSet's sync matches every pod it owns
        self._pinned = tuple((r.key, r.values[0]) for r in self._requirements
                             if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1)
        self._others = tuple(r for r in self._requirements
                             if not (r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1))
        self._hash = hash((nothing, self._requirements))

    @property
    def requirements(self) -> tuple[Requirement, ...]:
        return self._requirements

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        have = labels or {}
        for key, value in self._pinned:
            if have.get(key) != value:
                return False
        return all(r.matches(have) for r in self._others) if self._others else True

    def is_empty(self) -> bool:
        """True when the selector does not restrict anything (the nothing selector is not empty)."""
        return not self._nothing and not self._requirements

    def matches_nothing(self) -> bool:
        return self._nothing

    def add(self, *requirements: Requirement) -> Selector:
        if self._nothing:
            return self
        return Selector((*self._requirements, *requirements))

    def requires_exact_match(self, label: str) -> str | None:
        """The single value `label` must have, if the selector pins it (`a=b`, `a in (b)`)."""
        for r in self._requirements:
            if r.key == label:
                if r.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(r.values) == 1:
                    return r.values[0]
                return None
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self._requirements)

    def __repr__(self) -> str:
        return "Selector(<nothing>)" if self._nothing else f"Selector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Selector):
            return NotImplemented
        return (self._nothing, self._requirements) == (other._nothing, other._requirements)

    def __hash__(self) -> int:
        return self._hash


def everything() -> Selector:
    return Selector()


def nothing() -> Selector:
    return Selector(nothing=True)


def selector_from_set(labels: Mapping[str, str] | None) -> Selector:
    """Equality on every pair, unvalidated (labels.SelectorFromSet); empty matches all."""
    return Selector(Requirement(k, EQUALS, (v,)) for k, v in (labels or {}).items())


# --- lexer ---------------------------------------------------------------------------

_T_ERROR, _T_EOS, _T_CLOSE, _T_COMMA, _T_NOT, _T_DEQ, _T_EQ, _T_GT = range(8)
_T_ID, _T_IN, _T_LT, _T_NEQ, _T_NOTIN, _T_OPEN = range(8, 14)

_LITERALS = {
    ")": _T_CLOSE, ",": _T_COMMA, "!": _T_NOT, "==": _T_DEQ, "=": _T_EQ, ">": _T_GT,
    "in": _T_IN, "<": _T_LT, "!=": _T_NEQ, "notin": _T_NOTIN, "(": _T_OPEN,
}
_SPECIAL = frozenset("=!(),><")
_SPACE = frozenset(" \t\r\n")


def _lex(text: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _SPACE:
            pos += 1
        if pos >= end:
            items.append((_T_EOS, ""))
            return items
        if text[pos] in _SPECIAL:
            # longest run of special characters that is still a known operator
            buf, last = "", None
            while pos < end and text[pos] in _SPECIAL:
                buf += text[pos]
                if buf in _LITERALS:
                    last = (_LITERALS[buf], buf)
                elif last is not None:
                    break
                pos += 1
            items.append(last or (_T_ERROR, f"error expected: keyword found '{buf}'"))
        else:
            start = pos
            while pos < end and text[pos] not in _SPECIAL and text[pos] not in _SPACE:
                pos += 1
            word = text[start:pos]
            items.append((_LITERALS.get(word, _T_ID), word))


class _ParseError(Exception):
    pass


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.pos = 0

    def lookahead(self, values: bool = True) -> tuple[int, str]:
        tok, lit = self.items[self.pos]
        # in a value position `in` and `notin` are ordinary identifiers
        if values and tok in (_T_IN, _T_NOTIN):
            tok = _T_ID
        return tok, lit

    def consume(self, values: bool = True) -> tuple[int, str]:
        item = self.lookahead(values)
        self.pos += 1
        return item

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.lookahead()
            if tok == _T_EOS:
                return reqs
            if tok not in (_T_ID, _T_NOT):
                raise _ParseError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                reqs.append(self.requirement())
            except (_ParseError, BadRequest) as err:
                raise _ParseError(f"unable to parse requirement: {err}") from None
            tok, lit = self.consume()
            if tok == _T_EOS:
                return reqs
            if tok != _T_COMMA:
                raise _ParseError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self.lookahead()
            if tok not in (_T_ID, _T_NOT):
                raise _ParseError(f"found '{lit}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        operator = ""
        tok, key = self.consume()
        if tok == _T_NOT:
            operator = DOES_NOT_EXIST
            tok, key = self.consume()
        if tok != _T_ID:
            raise _ParseError(f"found '{key}', expected: identifier")
        key_errs = is_qualified_name(key)
        if key_errs:
            raise _ParseError(field_error_string(None, key, "; ".join(key_errs)))
        if self.lookahead()[0] in (_T_EOS, _T_COMMA) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        if operator in (EXISTS, DOES_NOT_EXIST):
            return new_requirement(key, operator, ())
        operator = self.operator()
        values = self.set_values() if operator in (IN, NOT_IN) else self.exact_value()
        return new_requirement(key, operator, sorted(values))

    def operator(self) -> str:
        tok, lit = self.consume(values=False)
        ops = {_T_IN: IN, _T_EQ: EQUALS, _T_DEQ: DOUBLE_EQUALS, _T_GT: GREATER_THAN,
               _T_LT: LESS_THAN, _T_NOTIN: NOT_IN, _T_NEQ: NOT_EQUALS}
        if tok not in ops:
            raise _ParseError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return ops[tok]

    def set_values(self) -> set[str]:
        tok, lit = self.consume()
        if tok != _T_OPEN:
            raise _ParseError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead()
        if tok == _T_CLOSE:  # "()" is the set holding the empty string
            self.consume()
            return {""}
        if tok not in (_T_ID, _T_COMMA):
            raise _ParseError(f"found '{lit}', expected: ',', ')' or identifier")
        values: set[str] = set()
        while True:
            tok, lit = self.consume()
            if tok == _T_ID:
                values.add(lit)
                nxt, nlit = self.lookahead()
                if nxt == _T_CLOSE:
                    self.consume()
                    return values
                if nxt != _T_COMMA:
                    raise _ParseError(f"found '{nlit}', expected: ',' or ')'")
            elif tok == _T_COMMA:
                # empty entries (`(,a)`, `(a,)`, `(a,,b)`) stand for the empty string
                if not values:
                    values.add("")
                nxt, _ = self.lookahead()
                if nxt == _T_CLOSE:
                    values.add("")
                    self.consume()
                    return values
                if nxt == _T_COMMA:
                    values.add("")
            else:
                raise _ParseError(f"found '{lit}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        if self.lookahead()[0] in (_T_EOS, _T_COMMA):
            return {""}
        tok, lit = self.consume()
        if tok == _T_ID:
            return {lit}
        raise _ParseError(f"found '{lit}', expected: identifier")


def parse(selector: str) -> Selector:
    """labels.Parse: the `labelSelector` query parameter into a Selector."""
    try:
        return Selector(_Parser(selector).parse())
    except _ParseError as err:
        raise BadRequest(str(err)) from None


def selector_from_label_selector(label_selector: Mapping[str, Any] | None) -> Selector:
    """metav1.LabelSelectorAsSelector: None matches nothing, `{}` matches everything."""
    if label_selector is None:
        return nothing()
    match_labels: Mapping[str, str] = label_selector.get("matchLabels") or {}
    expressions: list[Mapping[str, Any]] = label_selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return everything()
    reqs = [new_requirement(k, EQUALS, (match_labels[k],)) for k in sorted(match_labels)]
    ops = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}
    for expr in expressions:
        op = expr.get("operator", "")
        if op not in ops:
            raise BadRequest(f"{go_quote(str(op))} is not a valid label selector operator")
        reqs.append(new_requirement(expr.get("key", ""), ops[op], expr.get("values") or ()))
    return Selector(reqs)
