"""Resource lists as quota reckons them (k8s.io/apiserver/pkg/quota/v1/resources.go).

A `ResourceList` maps a resource name (`requests.cpu`, `count/pods`) to an exact
`Quantity`. The arithmetic here is upstream's: `add` keeps the first operand's
format (so `1Gi + 512Mi` prints `1536Mi`), `less_than_or_equal` only compares the
names both lists have, and `pretty` is how refusals print a list
(`requests.cpu=2,requests.memory=1Gi`, names sorted).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubelite.machinery.quantity import Quantity, parse_json

ResourceList = dict[str, Quantity]
ZERO = Quantity(0)


def parse_list(raw: Mapping[str, Any] | None) -> ResourceList:
    """A ResourceList from an object's JSON; an unparsable amount counts as absent
    (validation refuses such objects before they are stored)."""
    out: ResourceList = {}
    for name, value in (raw or {}).items():
        try:
            out[str(name)] = parse_json(value)
        except (ValueError, OverflowError):
            continue
    return out


def to_json(resources: ResourceList) -> dict[str, str]:
    return {name: str(resources[name]) for name in sorted(resources)}


def add(a: ResourceList, b: ResourceList) -> ResourceList:
    out = dict(a)
    for name, value in b.items():
        out[name] = out[name] + value if name in out else value
    return out


def subtract_non_negative(a: ResourceList, b: ResourceList) -> ResourceList:
    """a - b per name, never below zero; names only in b come out as zero."""
    out: ResourceList = {}
    for name, value in a.items():
        left = value - b[name] if name in b else value
        out[name] = left if left > ZERO else ZERO
    for name in b:
        out.setdefault(name, ZERO)
    return out


def mask(resources: ResourceList, names: Iterable[str]) -> ResourceList:
    wanted = set(names)
    return {name: value for name, value in resources.items() if name in wanted}


def remove_zeros(resources: ResourceList) -> ResourceList:
    return {name: value for name, value in resources.items() if not value.is_zero()}


def negative_names(resources: ResourceList) -> list[str]:
    return sorted(name for name, value in resources.items() if value.sign() < 0)


def equals(a: ResourceList, b: ResourceList) -> bool:
    return a.keys() == b.keys() and all(a[name] == b[name] for name in a)


def less_than_or_equal(a: ResourceList, b: ResourceList) -> tuple[bool, list[str]]:
    """Whether every name of b that a also has is within b, and the names that are not."""
    exceeded = [name for name, limit in b.items() if name in a and a[name] > limit]
    return not exceeded, exceeded


def pretty(resources: ResourceList) -> str:
    return ",".join(f"{name}={resources[name]}" for name in sorted(resources))
