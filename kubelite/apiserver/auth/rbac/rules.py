"""PolicyRules: whether one allows a request, and whether some rules cover others.

A rule is read once from its Role or ClusterRole into a `Rule` (tuples and frozensets),
so that matching a request is a few set lookups (upstream's rbac.go RuleAllows and the
rbacv1helpers *Matches functions):

- verbs and apiGroups match exactly or by `*`;
- resources match `*`, the request's `resource/subresource` exactly, or `*/sub` for a
  request of subresource `sub` (so `pods` does not allow `pods/log`);
- resourceNames, when present, must contain the request's name (a list without a name
  never matches a named rule);
- nonResourceURLs match `*`, the path exactly, or by prefix when they end in `*`.

`covers` and `compact_string` are the escalation check's (upstream's
validation/policy_comparator.go, policy_compact.go, evaluation_helpers.go): rules are
broken down to one verb, group, resource and name each, and each piece must be covered
by a single owner rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kubelite.apiserver.auth.attributes import Attributes

ALL = "*"


@dataclass(frozen=True, slots=True)
class Rule:
    verbs: tuple[str, ...] = ()
    api_groups: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    resource_names: tuple[str, ...] = ()
    non_resource_urls: tuple[str, ...] = ()

    @classmethod
    def from_api(cls, rule: Any) -> Rule:
        """A PolicyRule as stored; anything malformed reads as what it cannot allow."""
        if not isinstance(rule, dict):
            return cls()

        def strings(field: str) -> tuple[str, ...]:
            values = rule.get(field) or ()
            return tuple(v for v in values if isinstance(v, str)) if isinstance(
                values, list) else ()
        return cls(strings("verbs"), strings("apiGroups"), strings("resources"),
                   strings("resourceNames"), strings("nonResourceURLs"))

    def to_api(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"verbs": list(self.verbs)}
        if self.api_groups:
            out["apiGroups"] = list(self.api_groups)
        if self.resources:
            out["resources"] = list(self.resources)
        if self.resource_names:
            out["resourceNames"] = list(self.resource_names)
        if self.non_resource_urls:
            out["nonResourceURLs"] = list(self.non_resource_urls)
        return out


def rules_from_api(rules: Any) -> tuple[Rule, ...]:
    return tuple(Rule.from_api(r) for r in rules) if isinstance(rules, list) else ()


def _matches(values: tuple[str, ...], wanted: str) -> bool:
    return ALL in values or wanted in values


def resource_matches(rule: Rule, combined: str, subresource: str) -> bool:
    for resource in rule.resources:
        if resource == ALL or resource == combined:
            return True
        if subresource and resource == f"*/{subresource}":
            return True
    return False


def non_resource_url_matches(rule: Rule, path: str) -> bool:
    for url in rule.non_resource_urls:
        if url == ALL or url == path:
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def rule_allows(attrs: Attributes, rule: Rule) -> bool:
    if not _matches(rule.verbs, attrs.verb):
        return False
    if not attrs.resource_request:
        return non_resource_url_matches(rule, attrs.path)
    combined = attrs.resource
    if attrs.subresource:
        combined = f"{attrs.resource}/{attrs.subresource}"
    return (_matches(rule.api_groups, attrs.api_group)
            and resource_matches(rule, combined, attrs.subresource)
            and (not rule.resource_names or attrs.name in rule.resource_names))


# -- coverage (escalation) ---------------------------------------------------------

def breakdown(rule: Rule) -> list[Rule]:
    """The rule as pieces of one verb, group, resource and name (or one verb and URL)."""
    pieces: list[Rule] = []
    for group in rule.api_groups:
        for resource in rule.resources:
            for verb in rule.verbs:
                if rule.resource_names:
                    pieces.extend(Rule((verb,), (group,), (resource,), (name,))
                                  for name in rule.resource_names)
                else:
                    pieces.append(Rule((verb,), (group,), (resource,)))
    for url in rule.non_resource_urls:
        pieces.extend(Rule((verb,), non_resource_urls=(url,)) for verb in rule.verbs)
    return pieces


def _has_all(owner: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    return set(wanted) <= set(owner)


def _url_covers(owner: str, path: str) -> bool:
    return owner == path or (owner.endswith("*") and path.startswith(owner.rstrip("*")))


def rule_covers(owner: Rule, piece: Rule) -> bool:
    if not (ALL in owner.verbs or _has_all(owner.verbs, piece.verbs)):
        return False
    if not (ALL in owner.api_groups or _has_all(owner.api_groups, piece.api_groups)):
        return False
    if not (ALL in owner.resources or _has_all(owner.resources, piece.resources)):
        return False
    if not all(any(_url_covers(o, p) for o in owner.non_resource_urls)
               for p in piece.non_resource_urls):
        return False
    if not piece.resource_names:
        return not owner.resource_names
    return not owner.resource_names or _has_all(owner.resource_names, piece.resource_names)


def covers(owner: Sequence[Rule], wanted: Iterable[Rule]) -> list[Rule]:
    """The pieces of `wanted` no owner rule covers (empty: the owner holds them all)."""
    return [piece for rule in wanted for piece in breakdown(rule)
            if not any(rule_covers(o, piece) for o in owner)]


def compact(rules: Iterable[Rule]) -> list[Rule]:
    """Upstream's CompactRules: rules on one group, one resource and at most one name
    are merged into one rule with all their verbs."""
    simple: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    out: list[Rule] = []
    for rule in rules:
        if (len(rule.resource_names) > 1 or rule.non_resource_urls
                or len(rule.api_groups) != 1 or len(rule.resources) != 1):
            out.append(rule)
            continue
        verbs = simple.setdefault((rule.api_groups[0], rule.resources[0],
                                   rule.resource_names), [])
        verbs.extend(v for v in rule.verbs if v not in verbs)
    out.extend(Rule(tuple(verbs), (group,), (resource,), names)
               for (group, resource, names), verbs in simple.items())
    return out


def go_quote(value: str) -> str:
    """Go's %q of a string (strconv.Quote) for the printable text RBAC names hold."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{escaped}"'


def go_quote_list(values: Iterable[str]) -> str:
    """Go's %q of a []string: `["a" "b"]`."""
    return "[" + " ".join(go_quote(v) for v in values) + "]"


def compact_string(rule: Rule) -> str:
    """rbacv1helpers.CompactString, as escalation refusals list missing rules."""
    parts = []
    for label, values in (("APIGroups", rule.api_groups), ("Resources", rule.resources),
                          ("NonResourceURLs", rule.non_resource_urls),
                          ("ResourceNames", rule.resource_names), ("Verbs", rule.verbs)):
        if values:
            parts.append(f"{label}:{go_quote_list(values)}")
    return "{" + ", ".join(parts) + "}"
