"""Which names each kind accepts, with upstream's messages (ValidateXName upstream).

Most kinds take a DNS-1123 subdomain; namespaces and statefulsets a DNS-1123 label
(a statefulset's name ends up in its pods' hostnames); services a DNS-1035 label (the
name becomes a DNS label that must not start with a digit); RBAC objects any path
segment. `validate_name` returns the messages upstream's name function returns;
`name_causes` wraps them as the `metadata.name` / `metadata.generateName` causes
ValidateObjectMeta reports. The DNS checks themselves are `kubelite.machinery.validation`'s.
"""

from __future__ import annotations

from typing import Any, Callable

from kubelite.machinery import validation
from kubelite.machinery.errors import Cause
from kubelite.machinery.validation import is_dns1035_label, is_dns1123_label, is_dns1123_subdomain

from .causes import invalid, required

def is_path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def _mask_trailing_dash(name: str) -> str:
    # Upstream's maskTrailingDash, byte for byte: a generateName prefix may end in '-'.
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


NameRule = Callable[[str, bool], list[str]]


def _dns(check: Callable[[str], list[str]]) -> NameRule:
    """A name rule from a DNS check: a generateName prefix is checked with its dash masked."""
    def rule(name: str, prefix: bool) -> list[str]:
        return check(_mask_trailing_dash(name) if prefix else name)
    return rule


_dns_label = _dns(is_dns1123_label)
_dns_subdomain = _dns(is_dns1123_subdomain)
_dns1035 = _dns(is_dns1035_label)


def _path_segment(name: str, prefix: bool) -> list[str]:
    if prefix:
        return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in name]
    return is_path_segment_name(name)


def _cronjob(name: str, prefix: bool) -> list[str]:
    # The controller appends "-<11 chars>" to make job names, which must stay DNS labels.
    errs = _dns_subdomain(name, prefix)
    if not prefix and len(name) > 52:
        errs.append("must be no more than 52 characters")
    return errs


_RULES: dict[tuple[str, str], NameRule] = {
    ("", "namespaces"): _dns_label,
    ("", "services"): _dns1035,
    ("apps", "statefulsets"): _dns_label,
    ("batch", "cronjobs"): _cronjob,
    ("rbac.authorization.k8s.io", "roles"): _path_segment,
    ("rbac.authorization.k8s.io", "clusterroles"): _path_segment,
    ("rbac.authorization.k8s.io", "rolebindings"): _path_segment,
    ("rbac.authorization.k8s.io", "clusterrolebindings"): _path_segment,
}


def validate_name(group: str, plural: str, name: str, *, prefix: bool = False) -> list[str]:
    """Upstream's name-function messages for `name` of this kind ([] if valid). With
    `prefix`, `name` is a generateName prefix (a trailing '-' is allowed)."""
    return _RULES.get((group, plural), _dns_subdomain)(name, prefix)


def name_causes(group: str, plural: str, metadata: dict[str, Any]) -> list[Cause]:
    """ValidateObjectMeta's name checks: generateName as a prefix, name required and valid."""
    causes: list[Cause] = []
    generate_name = metadata.get("generateName") or ""
    if generate_name:
        for msg in validate_name(group, plural, generate_name, prefix=True):
            causes.append(invalid("metadata.generateName", generate_name, msg))
    name = metadata.get("name") or ""
    if not name:
        causes.append(required("metadata.name", "name or generateName is required"))
    else:
        for msg in validate_name(group, plural, name):
            causes.append(invalid("metadata.name", name, msg))
    return causes
