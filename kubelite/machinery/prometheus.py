"""The Prometheus text exposition format (version 0.0.4), both ways: the wire format of
a kubelet's /metrics/resource, written by kubelets and read by the metrics pipeline.

A sample line is `name{label="value",...} value [timestamp_ms]`; `# HELP` and `# TYPE`
lines describe a family and other `#` lines are comments. Label values escape `\\`,
`\"` and `\n`. Values are Go floats (`1.5`, `6.7e+07`, `NaN`, `+Inf`). A malformed line
is an error naming the line: a scrape either parses whole or is refused, as upstream's
metrics-server refuses it (it decodes with prometheus' textparse and fails the node).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from kubelite.machinery.go_json import go_float


class ParseError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float
    timestamp_ms: int | None = None


def _is_name_char(ch: str, first: bool) -> bool:
    return ch.isascii() and (ch.isalpha() or ch in "_:" or (not first and ch.isdigit()))


def _parse_float(text: str, line_no: int) -> float:
    lowered = text.lower()
    if lowered in ("+inf", "inf"):
        return math.inf
    if lowered == "-inf":
        return -math.inf
    if lowered == "nan":
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise ParseError(f"line {line_no}: {text!r} is not a number") from None


def _parse_labels(line: str, start: int, line_no: int) -> tuple[dict[str, str], int]:
    """The labels in braces starting at `start` ('{'), and the index after '}'."""
    labels: dict[str, str] = {}
    i = start + 1
    while True:
        while i < len(line) and line[i] in " \t,":
            i += 1
        if i < len(line) and line[i] == "}":
            return labels, i + 1
        begin = i
        while i < len(line) and _is_name_char(line[i], i == begin):
            i += 1
        name = line[begin:i]
        if not name or line[i:i + 2] != '="':
            raise ParseError(f"line {line_no}: malformed label at column {begin + 1}")
        i += 2
        value: list[str] = []
        while True:
            if i >= len(line):
                raise ParseError(f"line {line_no}: unterminated label value")
            ch = line[i]
            if ch == "\\" and i + 1 < len(line):
                value.append({"n": "\n", "\\": "\\", '"': '"'}.get(line[i + 1], "\\" + line[i + 1]))
                i += 2
            elif ch == '"':
                i += 1
                break
            else:
                value.append(ch)
                i += 1
        if name in labels:
            raise ParseError(f"line {line_no}: label {name} given twice")
        labels[name] = "".join(value)


def parse_line(line: str, line_no: int = 1) -> Sample | None:
    """One line's sample; None for a blank line or a comment."""
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    i = 0
    while i < len(line) and _is_name_char(line[i], i == 0):
        i += 1
    name = line[:i]
    if not name:
        raise ParseError(f"line {line_no}: no metric name")
    labels: dict[str, str] = {}
    if i < len(line) and line[i] == "{":
        labels, i = _parse_labels(line, i, line_no)
    rest = line[i:].split()
    if not 1 <= len(rest) <= 2 or (line[i:i + 1] not in (" ", "\t")):
        raise ParseError(f"line {line_no}: expected a value and an optional timestamp")
    value = _parse_float(rest[0], line_no)
    timestamp: int | None = None
    if len(rest) == 2:
        try:
            timestamp = int(rest[1])
        except ValueError:
            raise ParseError(f"line {line_no}: timestamp {rest[1]!r} is not an integer") \
                from None
    return Sample(name, labels, value, timestamp)


def parse(text: str) -> Iterator[Sample]:
    for line_no, line in enumerate(text.splitlines(), 1):
        sample = parse_line(line, line_no)
        if sample is not None:
            yield sample


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_sample(sample: Sample) -> str:
    labels = ""
    if sample.labels:
        labels = "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sample.labels.items()) + "}"
    stamp = f" {sample.timestamp_ms}" if sample.timestamp_ms is not None else ""
    return f"{sample.name}{labels} {go_float(sample.value)}{stamp}"


def format_family(name: str, help_text: str, type_: str, samples: Iterable[Sample]) -> str:
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {type_}"]
    lines.extend(format_sample(s) for s in samples)
    return "\n".join(lines) + "\n"
