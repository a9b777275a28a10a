"""How Go's encoding/json words a value of the wrong type, for the 400s kubelite gives
where kube-apiserver's decoder would fail (`json: cannot unmarshal array into Go struct
field ConfigMap.data of type map[string]string`)."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any


def json_value_name(value: Any) -> str:
    """The name encoding/json gives a JSON value in an UnmarshalTypeError."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def unmarshal_type_error(what: str, type_name: str, struct: str = "", path: str = "") -> str:
    """encoding/json's UnmarshalTypeError.Error(): `what` is a `json_value_name` (or a
    literal such as `number 1.5`), `struct.path` the field when there is one."""
    if struct or path:
        return f"json: cannot unmarshal {what} into Go struct field {struct}.{path} of type " \
               f"{type_name}"
    return f"json: cannot unmarshal {what} into Go value of type {type_name}"


def cannot_be_handled(kind: str, version: str, why: object) -> str:
    """How kube-apiserver words a body its decoder refused for the endpoint's kind."""
    return f'{kind} in version "{version}" cannot be handled as a {kind}: {why}'


def go_float(value: float) -> str:
    """A float64 as Go prints it with %v (fmt.Sprint) and strconv.FormatFloat(v, 'g', -1, 64):
    the shortest digits that read back exactly, in exponent form when the exponent is
    below -4 or at least 6 (`6.7108864e+07`, `1e-05`, `123456`, `0.25`, `-0`, `+Inf`)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    point = len(text) + int(exponent)  # position of the decimal point in the digit string
    exp10 = point - 1
    prefix = "-" if sign else ""
    if exp10 < -4 or exp10 >= 6:
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    if point <= 0:
        return f"{prefix}0.{'0' * -point}{text}"
    if point >= len(text):
        return f"{prefix}{text}{'0' * (point - len(text))}"
    return f"{prefix}{text[:point]}.{text[point:]}"
