"""Which names each kind accepts, with upstream's messages (ValidateXName upstream).

Most kinds take a DNS-1123 subdomain; namespaces and statefulsets a DNS-1123 label
(a statefulset's name ends up in its pods' hostnames); services a DNS-1035 label (the
name becomes a DNS label that must not start with a digit); RBAC objects any path
segment. `validate_name` returns the messages upstream's name function returns;
`name_causes` wraps them as the `metadata.name` / `metadata.generateName` causes
ValidateObjectMeta reports. The few regex checks live here privately until
`kubelite.machinery.validation` takes them over.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from kubelite.machinery.errors import Cause

from .causes import invalid, required

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"

_DNS1123_LABEL = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL = re.compile(_DNS1035_LABEL_FMT)
_CONFIG_KEY = re.compile(_CONFIG_KEY_FMT)

_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character"
)
_CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"


def max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    # Upstream's RegexError, double space before "or" included.
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    msg += " (e.g. "
    for i, example in enumerate(examples):
        if i > 0:
            msg += " or "
        msg += f"'{example}', "
    return msg + f"regex used for validation is '{fmt}')"


def is_dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _DNS1123_LABEL.fullmatch(value):
        errs.append(regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append(max_len_error(253))
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errs.append(regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errs


def is_dns1035_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _DNS1035_LABEL.fullmatch(value):
        errs.append(regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errs


def is_config_map_key(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append(max_len_error(253))
    if not _CONFIG_KEY.fullmatch(value):
        errs.append(regex_error(_CONFIG_KEY_MSG, _CONFIG_KEY_FMT, "key.name", "KEY_NAME", "key-name"))
    if value == ".":
        errs.append("must not be '.'")
    elif value == "..":
        errs.append("must not be '..'")
    elif value.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def is_path_segment_name(value: str) -> list[str]:
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def _mask_trailing_dash(name: str) -> str:
    # Upstream's maskTrailingDash, byte for byte: a generateName prefix may end in '-'.
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def _dns_label(name: str, prefix: bool) -> list[str]:
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def _dns_subdomain(name: str, prefix: bool) -> list[str]:
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def _dns1035(name: str, prefix: bool) -> list[str]:
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


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


NameRule = Callable[[str, bool], list[str]]

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
