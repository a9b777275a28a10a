"""Name rules (NameFunc / ValidateXName upstream), with upstream's messages.

A rule takes a name and whether it is a generateName prefix (a trailing '-' is
allowed there) and returns the messages upstream's name function returns ([] if
valid). Most kinds take a DNS-1123 subdomain (`DefaultStrategy.validate_name`); a
kind's strategy overrides `validate_name` with one of the rules here: namespaces and
statefulsets a DNS-1123 label (a statefulset's name ends up in its pods' hostnames),
services a DNS-1035 label (the name becomes a DNS label that must not start with a
digit), RBAC objects any path segment, cronjobs a subdomain short enough for the job
names made from it. `name_causes` wraps a rule's messages as the `metadata.name` /
`metadata.generateName` causes ValidateObjectMeta reports. The DNS checks themselves
are `kubelite.machinery.validation`'s.
"""

from __future__ import annotations

from typing import Any, Callable

from kubelite.machinery.errors import Cause
from kubelite.machinery.validation import (
    is_dns1035_label,
    is_dns1123_label,
    is_dns1123_subdomain,
    mask_trailing_dash,
)

from .causes import invalid, required

NameRule = Callable[[str, bool], list[str]]


def is_path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def _dns(check: Callable[[str], list[str]]) -> NameRule:
    """A name rule from a DNS check: a generateName prefix is checked with its dash masked."""
    def rule(name: str, prefix: bool) -> list[str]:
        return check(mask_trailing_dash(name) if prefix else name)
    return rule


dns_label = _dns(is_dns1123_label)
dns_subdomain = _dns(is_dns1123_subdomain)
dns1035_label = _dns(is_dns1035_label)


def path_segment(name: str, prefix: bool) -> list[str]:
    if prefix:
        return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in name]
    return is_path_segment_name(name)


def cronjob_name(name: str, prefix: bool) -> list[str]:
    # The controller appends "-<11 chars>" to make job names, which must stay DNS labels.
    errs = dns_subdomain(name, prefix)
    if not prefix and len(name) > 52:
        errs.append("must be no more than 52 characters")
    return errs


def name_causes(rule: NameRule, metadata: dict[str, Any]) -> list[Cause]:
    """ValidateObjectMeta's name checks: generateName as a prefix, name required and valid."""
    causes: list[Cause] = []
    generate_name = metadata.get("generateName") or ""
    if generate_name:
        for msg in rule(generate_name, True):
            causes.append(invalid("metadata.generateName", generate_name, msg))
    name = metadata.get("name") or ""
    if not name:
        causes.append(required("metadata.name", "name or generateName is required"))
    else:
        for msg in rule(name, False):
            causes.append(invalid("metadata.name", name, msg))
    return causes
