"""The audit Policy (audit.k8s.io/v1): which requests are recorded, and how much of
them (upstream's pkg/audit/policy: reader.go, checker.go; apis/audit/validation).

    apiVersion: audit.k8s.io/v1
    kind: Policy
    omitStages: [RequestReceived]
    rules:
    - level: None
      nonResourceURLs: ["/healthz*", "/version"]
    - level: RequestResponse
      resources: [{group: "", resources: ["secrets"]}]
      namespaces: [prod]
    - level: Metadata

The first rule that matches a request decides its level (None, Metadata, Request,
RequestResponse); a request no rule matches is not recorded. A rule matches when
every constraint it states holds: users, userGroups (any of the user's groups),
verbs, then either resources and namespaces (resource requests only) or
nonResourceURLs (the others; `*` alone or as a final wildcard). In `resources`,
`pods/log` names a subresource, `*` any resource, `*/log` any resource's `log`,
`pods/*` pods and all its subresources; resourceNames narrows to names. A rule's
omitStages add to the policy's; its omitManagedFields, when given, wins over the
policy's.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubelite.apiserver.auth.attributes import Attributes
from kubelite.machinery.validation import is_dns1123_subdomain


class Level(enum.IntEnum):
    NONE = 0
    METADATA = 1
    REQUEST = 2
    REQUEST_RESPONSE = 3

    @property
    def api_name(self) -> str:
        return _LEVEL_NAMES[self]


_LEVEL_NAMES = {Level.NONE: "None", Level.METADATA: "Metadata", Level.REQUEST: "Request",
                Level.REQUEST_RESPONSE: "RequestResponse"}
_LEVELS = {name: level for level, name in _LEVEL_NAMES.items()}
STAGES = ("RequestReceived", "ResponseStarted", "ResponseComplete", "Panic")
API_VERSION = "audit.k8s.io/v1"


class InvalidPolicy(Exception):
    """The policy file cannot be used; the message is upstream's."""


@dataclass(frozen=True, slots=True)
class GroupResources:
    group: str
    resources: tuple[str, ...]
    resource_names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Rule:
    level: Level
    users: frozenset[str] = frozenset()
    user_groups: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset()
    resources: tuple[GroupResources, ...] = ()
    namespaces: frozenset[str] = frozenset()
    non_resource_urls: tuple[str, ...] = ()
    omit_stages: frozenset[str] = frozenset()
    omit_managed_fields: bool | None = None


@dataclass(frozen=True, slots=True)
class RequestAuditConfig:
    """What the policy says about one request."""

    level: Level
    omit_stages: frozenset[str] = frozenset()
    omit_managed_fields: bool = False


NOT_AUDITED = RequestAuditConfig(Level.NONE)


@dataclass(frozen=True, slots=True)
class Policy:
    rules: tuple[Rule, ...]
    omit_stages: frozenset[str] = frozenset()
    omit_managed_fields: bool = False

    def evaluate(self, attrs: Attributes, *, user_known: bool = True) -> RequestAuditConfig:
        """The first matching rule's level and stages; level None for no rule.
        Without a known user (authentication failed), rules naming users or groups
        do not match."""
        for rule in self.rules:
            if rule_matches(rule, attrs, user_known=user_known):
                managed = (self.omit_managed_fields if rule.omit_managed_fields is None
                           else rule.omit_managed_fields)
                return RequestAuditConfig(rule.level, self.omit_stages | rule.omit_stages,
                                          managed)
        return NOT_AUDITED


def rule_matches(rule: Rule, attrs: Attributes, *, user_known: bool = True) -> bool:
    if not user_known and (rule.users or rule.user_groups):
        return False
    user = attrs.user
    if rule.users and user.name not in rule.users:
        return False
    if rule.user_groups and not any(g in rule.user_groups for g in user.groups):
        return False
    if rule.verbs and attrs.verb not in rule.verbs:
        return False
    if rule.namespaces or rule.resources:
        return _matches_resource(rule, attrs)
    if rule.non_resource_urls:
        return not attrs.resource_request and any(
            _path_matches(attrs.path, spec) for spec in rule.non_resource_urls)
    return True


def _path_matches(path: str, spec: str) -> bool:
    return spec in ("*", path) or (spec.endswith("*") and path.startswith(spec.rstrip("*")))


def _matches_resource(rule: Rule, attrs: Attributes) -> bool:
    if not attrs.resource_request:
        return False
    if rule.namespaces and attrs.namespace not in rule.namespaces:
        return False  # a cluster-scoped resource's namespace is ""
    if not rule.resources:
        return True
    resource, subresource = attrs.resource, attrs.subresource
    combined = f"{resource}/{subresource}" if subresource else resource
    for group_resources in rule.resources:
        if group_resources.group != attrs.api_group:
            continue
        if not group_resources.resources:
            return True
        if group_resources.resource_names and attrs.name not in group_resources.resource_names:
            continue
        for res in group_resources.resources:
            if res in (combined, "*"):
                return True
            if subresource and res.startswith("*/") and subresource == res[2:]:
                return True
            if res.endswith("/*") and resource == res[:-2]:
                return True
    return False


# -- reading and validating ------------------------------------------------------------


def load_file(path: Path) -> Policy:
    """reader.LoadPolicyFromFile: the policy, or InvalidPolicy with upstream's message."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InvalidPolicy(f"failed to read file path {str(path)!r}: "
                            f"{err.strerror or err}") from None
    try:
        return parse(data)
    except InvalidPolicy as err:
        raise InvalidPolicy(f"{err}: from file {path}") from None


def parse(data: bytes | str) -> Policy:
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as err:
        raise InvalidPolicy(f"failed decoding: {err}") from None
    doc = doc if isinstance(doc, dict) else {}
    if doc.get("apiVersion") != API_VERSION or doc.get("kind") != "Policy":
        group, _, version = str(doc.get("apiVersion") or "").rpartition("/")
        raise InvalidPolicy(f"unknown group version field {group}/{version}, "
                            f"Kind={doc.get('kind') or ''} in policy")
    rules = doc.get("rules") or []
    problems = _validate_stages(doc.get("omitStages") or [], "omitStages")
    for i, rule in enumerate(rules):
        problems += validate_rule(rule if isinstance(rule, dict) else {}, f"rules[{i}]")
    if problems:
        raise InvalidPolicy(problems[0] if len(problems) == 1
                            else "[" + ", ".join(problems) + "]")
    if not rules:
        raise InvalidPolicy("loaded illegal policy with 0 rules")
    return Policy(tuple(_rule(r) for r in rules), frozenset(doc.get("omitStages") or ()),
                  bool(doc.get("omitManagedFields")))


def _go_strings(values: list[Any]) -> str:
    return "[]string{" + ", ".join(f'"{v}"' for v in values) + "}"


def validate_rule(rule: dict[str, Any], path: str) -> list[str]:
    """validatePolicyRule's field errors, in its order and words."""
    problems: list[str] = []
    level = rule.get("level") or ""
    if not level:
        problems.append(f"{path}.level: Required value")
    elif level not in _LEVELS:
        problems.append(f'{path}.level: Unsupported value: "{level}": supported values: '
                        + ", ".join(f'"{name}"' for name in _LEVELS))
    urls = [str(u) for u in rule.get("nonResourceURLs") or []]
    for i, url in enumerate(urls):
        if url == "*":
            continue
        if not url.startswith("/"):
            problems.append(f'{path}.nonResourceURLs[{i}]: Invalid value: "{url}": '
                            f"non-resource URL rules must begin with a '/' character")
        if url and "*" in url[:-1]:
            problems.append(f'{path}.nonResourceURLs[{i}]: Invalid value: "{url}": '
                            f"non-resource URL wildcards '*' must be the final character "
                            f"of the rule")
    for group_resources in rule.get("resources") or []:
        group_resources = group_resources if isinstance(group_resources, dict) else {}
        group = str(group_resources.get("group") or "")
        if group and (msgs := is_dns1123_subdomain(group)):
            problems.append(f'{path}.resources.group: Invalid value: "{group}": '
                            + ",".join(msgs))
        names = group_resources.get("resourceNames") or []
        if names and not group_resources.get("resources"):
            problems.append(f"{path}.resources.resourceNames: Invalid value: "
                            f"{_go_strings(names)}: using resourceNames requires at least "
                            f"one resource")
    problems += _validate_stages(rule.get("omitStages") or [], f"{path}.omitStages")
    if urls and (rule.get("resources") or rule.get("namespaces")):
        problems.append(f"{path}.nonResourceURLs: Invalid value: {_go_strings(urls)}: rules "
                        f"cannot apply to both regular resources and non-resource URLs")
    return problems


def _validate_stages(stages: list[Any], path: str) -> list[str]:
    return [f'{path}[{i}]: Invalid value: "{stage}": allowed stages are ' + ",".join(STAGES)
            for i, stage in enumerate(stages) if stage not in STAGES]


def _rule(rule: dict[str, Any]) -> Rule:
    managed = rule.get("omitManagedFields")
    return Rule(
        level=_LEVELS[rule["level"]],
        users=frozenset(rule.get("users") or ()),
        user_groups=frozenset(rule.get("userGroups") or ()),
        verbs=frozenset(rule.get("verbs") or ()),
        resources=tuple(GroupResources(str(g.get("group") or ""),
                                       tuple(g.get("resources") or ()),
                                       tuple(g.get("resourceNames") or ()))
                        for g in rule.get("resources") or ()),
        namespaces=frozenset(rule.get("namespaces") or ()),
        non_resource_urls=tuple(rule.get("nonResourceURLs") or ()),
        omit_stages=frozenset(rule.get("omitStages") or ()),
        omit_managed_fields=None if managed is None else bool(managed),
    )
