"""The JSONPath that CRD additionalPrinterColumns use, as client-go's jsonpath reads it.

Supported: `.field` (backslash escapes a dot: `.metadata.labels.app\\.kubernetes\\.io/name`),
`['field']`, `[n]` (negative counts from the end), `[start:end]`, `[*]` and `.*`,
unions (`[0,2]`, `['a','b']`), recursive descent (`..field`) and filters
(`[?(@.type=="Ready")]`, `[?(@.ready)]`, comparisons `== != < > <= >=` against a
string, number, boolean or another `@` path). Missing keys yield no result (the
columns are evaluated with AllowMissingKeys), never an error.

A path is compiled once (`compile_path` is cached) into a tuple of steps; evaluating
it walks the object without copying anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_TERMINATORS = frozenset(" \t\r\n.[](){},=!<>")


class PathError(ValueError):
    """The path is not valid JSONPath."""


@dataclass(frozen=True, slots=True)
class Field:
    name: str  # "*" for a wildcard


@dataclass(frozen=True, slots=True)
class Recurse:
    """`..`: the node and every node below it."""


@dataclass(frozen=True, slots=True)
class Index:
    indices: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Slice:
    start: int | None
    end: int | None
    step: int | None


@dataclass(frozen=True, slots=True)
class Keys:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Filter:
    left: tuple[Any, ...]
    operator: str  # "" tests existence of left
    right: Any  # a literal, or a tuple of steps for an @-path


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self, n: int = 0) -> str:
        i = self.pos + n
        return self.text[i] if i < len(self.text) else ""

    def steps(self, *, stop: frozenset[str] = frozenset()) -> tuple[Any, ...]:
        out: list[Any] = []
        while self.pos < len(self.text) and self.peek() not in stop:
            ch = self.peek()
            if ch in "$@" and not out:
                self.pos += 1
            elif ch == ".":
                if self.peek(1) == ".":
                    self.pos += 1
                    out.append(Recurse())
                self.pos += 1
                if self.peek() == "[":
                    continue
                out.append(Field(self.name()))
            elif ch == "[":
                out.append(self.bracket())
            elif ch.isspace():
                self.pos += 1
            else:
                raise PathError(f"unrecognized character in action: {ch!r}")
        return tuple(out)

    def name(self) -> str:
        chars = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                chars.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if ch in _TERMINATORS:
                break
            chars.append(ch)
            self.pos += 1
        if not chars:
            raise PathError("missing field name")
        return "".join(chars)

    def bracket(self) -> Any:
        end = self._matching_bracket()
        inner = self.text[self.pos + 1 : end].strip()
        self.pos = end + 1
        if inner.startswith("?"):
            return self.filter(inner[1:].strip())
        if inner == "*":
            return Field("*")
        parts = [part.strip() for part in _split_top(inner, ",")]
        if all(_is_quoted(part) for part in parts):
            return Keys(tuple(part[1:-1] for part in parts))
        if len(parts) == 1 and ":" in parts[0]:
            bounds = [b.strip() for b in parts[0].split(":")]
            if len(bounds) > 3:
                raise PathError(f"invalid array slice {inner!r}")
            values = [int(b) if b else None for b in bounds] + [None] * (3 - len(bounds))
            return Slice(values[0], values[1], values[2])
        try:
            return Index(tuple(int(part) for part in parts))
        except ValueError:
            raise PathError(f"invalid array index {inner!r}") from None

    def _matching_bracket(self) -> int:
        depth = 0
        quote = ""
        for i in range(self.pos, len(self.text)):
            ch = self.text[i]
            if quote:
                if ch == quote:
                    quote = ""
            elif ch in "'\"":
                quote = ch
            elif ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    return i
        raise PathError("unterminated array")

    def filter(self, text: str) -> Filter:
        if not (text.startswith("(") and text.endswith(")")):
            raise PathError(f"invalid filter {text!r}")
        body = text[1:-1].strip()
        for operator in ("==", "!=", "<=", ">=", "<", ">"):
            at = _find_operator(body, operator)
            if at >= 0:
                left = _Parser(body[:at].strip()).steps()
                return Filter(left, operator, _operand(body[at + len(operator) :].strip()))
        return Filter(_Parser(body).steps(), "", None)


def _is_quoted(text: str) -> bool:
    return len(text) >= 2 and text[0] == text[-1] and text[0] in "'\""


def _unquoted(text: str) -> Iterator[tuple[int, str]]:
    """The positions and characters of `text` outside quoted strings (quotes excluded)."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        else:
            yield i, ch


def _split_top(text: str, sep: str) -> list[str]:
    parts, start = [], 0
    for i, ch in _unquoted(text):
        if ch == sep:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _find_operator(text: str, operator: str) -> int:
    for i, _ in _unquoted(text):
        if text.startswith(operator, i):
            # "<" must not be the start of "<=" (those are tried first, but "<" would match there too)
            if operator in ("<", ">") and text[i + 1 : i + 2] == "=":
                continue
            if operator in ("<", ">") and i > 0 and text[i - 1] in "!=<>":
                continue
            return i
    return -1


def _operand(text: str) -> Any:
    if _is_quoted(text):
        return text[1:-1]
    if text.startswith("@") or text.startswith("$"):
        return _Parser(text).steps()
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise PathError(f"invalid filter operand {text!r}") from None


@lru_cache(maxsize=1024)
def compile_path(path: str) -> tuple[Any, ...]:
    """Parse a column's jsonPath (with or without the surrounding braces)."""
    text = path.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    if not text:
        raise PathError("empty path")
    return _Parser(text).steps()


def _descendants(node: Any, out: list[Any]) -> None:
    out.append(node)
    if isinstance(node, dict):
        for value in node.values():
            _descendants(value, out)
    elif isinstance(node, list):
        for value in node:
            _descendants(value, out)


def _compare(left: Any, operator: str, right: Any) -> bool:
    if operator == "==":
        return type(left) is type(right) and left == right or _numbers(left, right) and left == right
    if operator == "!=":
        return not _compare(left, "==", right)
    if not (_numbers(left, right) or (isinstance(left, str) and isinstance(right, str))):
        return False
    if operator == "<":
        return bool(left < right)
    if operator == ">":
        return bool(left > right)
    if operator == "<=":
        return bool(left <= right)
    return bool(left >= right)


def _numbers(left: Any, right: Any) -> bool:
    return (
        isinstance(left, (int, float))
        and isinstance(right, (int, float))
        and not isinstance(left, bool)
        and not isinstance(right, bool)
    )


def _passes(item: Any, step: Filter) -> bool:
    lefts = evaluate(step.left, item)
    if not step.operator:
        return bool(lefts) and lefts[0] is not None and lefts[0] is not False
    rights = evaluate(step.right, item) if isinstance(step.right, tuple) else [step.right]
    return any(_compare(left, step.operator, right) for left in lefts for right in rights)


def evaluate(steps: tuple[Any, ...], root: Any) -> list[Any]:
    """Every value the path selects in `root`, in document order."""
    nodes = [root]
    for step in steps:
        found: list[Any] = []
        for node in nodes:
            if isinstance(step, Field):
                if step.name == "*":
                    if isinstance(node, dict):
                        found.extend(node.values())
                    elif isinstance(node, list):
                        found.extend(node)
                elif isinstance(node, dict) and step.name in node:
                    found.append(node[step.name])
            elif isinstance(step, Keys):
                if isinstance(node, dict):
                    found.extend(node[name] for name in step.names if name in node)
            elif isinstance(step, Index):
                if isinstance(node, list):
                    for i in step.indices:
                        if -len(node) <= i < len(node):
                            found.append(node[i])
            elif isinstance(step, Slice):
                if isinstance(node, list):
                    found.extend(node[step.start : step.end : step.step])
            elif isinstance(step, Recurse):
                _descendants(node, found)
            elif isinstance(step, Filter):
                items = node if isinstance(node, list) else list(node.values()) if isinstance(node, dict) else ()
                found.extend(item for item in items if _passes(item, step))
        nodes = found
        if not nodes:
            break
    return nodes
