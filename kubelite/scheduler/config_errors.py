"""The errors of a KubeSchedulerConfiguration, worded as kube-scheduler words them.

Two families, as upstream has two stages:

- decoding (`DecodeError`): what the strict decoder says before anything is validated,
  e.g. `unknown field "profiles[0].foo"` or `json: cannot unmarshal string into Go struct
  field KubeSchedulerProfile.profiles.percentageOfNodesToScore of type int32`;
- validation (`FieldError`): apimachinery's field.Error, `<path>: <body>`, e.g.
  `profiles[1].schedulerName: Required value` or
  `percentageOfNodesToScore: Invalid value: 101: not in valid range [0-100]`.

A plugin's `from_args` raises `ArgsError` with paths relative to its args; the loader
places them under `profiles[i].pluginConfig[j].args`. Everything wrong with one file is
gathered into one `InvalidConfiguration`, so a user fixes it in one pass instead of one
error per run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kubelite.machinery.validation import go_quote, go_value


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


@dataclass(frozen=True, slots=True)
class FieldError:
    """field.Error: a type (Required, Invalid, ...), a path, the bad value and a detail."""

    type: str
    path: str
    value: object = None
    detail: str = ""
    show_value: bool = True

    def body(self) -> str:
        """field.Error.ErrorBody(): Required and Forbidden never print the value."""
        if self.type in ("Required value", "Forbidden") or not self.show_value:
            text = self.type
        elif isinstance(self.value, dict) or (isinstance(self.value, list) and not all(
                isinstance(v, str) for v in self.value)):
            # upstream prints a Go struct here; its JSON says the same and reads better
            text = f"{self.type}: {json.dumps(self.value, separators=(',', ':'))}"
        else:
            text = f"{self.type}: {go_value(self.value)}"
        return f"{text}: {self.detail}" if self.detail else text

    def under(self, prefix: str) -> FieldError:
        """The same error with its path placed under `prefix`."""
        path = prefix if not self.path else (
            f"{prefix}{self.path}" if self.path.startswith("[") else child(prefix, self.path))
        return FieldError(self.type, path, self.value, self.detail, self.show_value)

    def __str__(self) -> str:
        return f"{self.path}: {self.body()}"


def required(path: str, detail: str = "") -> FieldError:
    return FieldError("Required value", path, detail=detail)


def invalid(path: str, value: object, detail: str) -> FieldError:
    return FieldError("Invalid value", path, value, detail)


def forbidden(path: str, detail: str) -> FieldError:
    return FieldError("Forbidden", path, detail=detail)


def duplicate(path: str, value: object) -> FieldError:
    return FieldError("Duplicate value", path, value)


def not_supported(path: str, value: object, supported: Sequence[str]) -> FieldError:
    detail = "supported values: " + ", ".join(go_quote(s) for s in supported) if supported else ""
    return FieldError("Unsupported value", path, value, detail)


@dataclass(frozen=True, slots=True)
class DecodeError:
    """One complaint of the strict decoder: an unknown field, or a value of the wrong type
    (`strict` tells which: upstream reports unknown fields as "strict decoding error")."""

    message: str
    strict: bool = True

    @classmethod
    def unknown_field(cls, path: str) -> DecodeError:
        return cls(f"unknown field {go_quote(path)}")

    def __str__(self) -> str:
        return self.message


def strict_message(errors: Iterable[DecodeError], context: str = "") -> str:
    """runtime.NewStrictDecodingError's text, inside an optional "decoding ..." context."""
    joined = ", ".join(str(e) for e in errors)
    return f"strict decoding error: {context}{joined}"


class ArgsError(Exception):
    """A plugin's args are wrong: decoding errors and/or field errors, paths relative to
    the args object."""

    def __init__(self, errors: Sequence[FieldError] = (),
                 decoding: Sequence[DecodeError] = ()) -> None:
        self.errors = list(errors)
        self.decoding = list(decoding)
        super().__init__(aggregate([*map(str, self.decoding), *map(str, self.errors)]))


class InvalidConfiguration(Exception):
    """Everything wrong with one KubeSchedulerConfiguration, one message per problem."""

    def __init__(self, messages: Sequence[str], *, source: str = "") -> None:
        self.messages = list(dict.fromkeys(messages))
        self.source = source
        super().__init__(aggregate(self.messages))

    def report(self) -> str:
        """Every problem on its own line, for a person reading a terminal."""
        where = f" {self.source}" if self.source else ""
        count = len(self.messages)
        head = f"invalid KubeSchedulerConfiguration{where}: {count} error{'s' * (count != 1)}"
        return "\n".join([head, *(f"  {m}" for m in self.messages)])


def aggregate(messages: Sequence[str]) -> str:
    """utilerrors.NewAggregate(...).Error(): one message bare, several in brackets."""
    if len(messages) == 1:
        return messages[0]
    return "[" + ", ".join(messages) + "]"
