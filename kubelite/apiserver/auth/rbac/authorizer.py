"""The authorizers of `--authorization-mode`, as upstream chains them.

- `PrivilegedGroupAuthorizer` (authorizerfactory.NewPrivilegedGroups): members of
  `system:masters` are allowed everything, before any other authorizer is asked, so an
  administrator cannot lock themselves out by editing RBAC objects.
- `RBACAuthorizer` (plugin/pkg/auth/authorizer/rbac/rbac.go): allows what some rule of
  a role bound to the user allows; otherwise has no opinion (RBAC never denies), with
  `RBAC: ...` naming the roles it could not find.
- `AlwaysAllow`: `--authorization-mode=AlwaysAllow`.

`rules_for` is the rule resolver's RulesFor: every rule that applies to a user in a
namespace (SelfSubjectRulesReview and the escalation check read it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kubelite.apiserver.auth.attributes import Attributes, Decision
from kubelite.apiserver.auth.rbac.index import PolicyIndex
from kubelite.apiserver.auth.rbac.rules import Rule, rule_allows
from kubelite.apiserver.auth.user import SYSTEM_PRIVILEGED_GROUP, UserInfo


class PrivilegedGroupAuthorizer:
    def __init__(self, groups: tuple[str, ...] = (SYSTEM_PRIVILEGED_GROUP,)) -> None:
        self.groups = frozenset(groups)

    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        if self.groups.intersection(attrs.user.groups):
            return Decision.ALLOW, ""
        return Decision.NO_OPINION, ""


@dataclass(slots=True)
class ResolvedRules:
    rules: list[Rule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # roles that could not be found


class AlwaysAllow:
    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        return Decision.ALLOW, ""

    def rules_for(self, user: UserInfo, namespace: str) -> ResolvedRules:
        return ResolvedRules([Rule(("*",), ("*",), ("*",)),
                              Rule(("*",), non_resource_urls=("*",))])


class RBACAuthorizer:
    def __init__(self, index: PolicyIndex) -> None:
        self.index = index

    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        return self.decide(attrs)

    def decide(self, attrs: Attributes) -> tuple[Decision, str]:
        errors: list[str] = []
        for binding, subject, rules in self.index.rules_for(attrs.user, attrs.namespace):
            if isinstance(rules, str):
                errors.append(rules)
                continue
            for rule in rules:
                if rule_allows(attrs, rule):
                    return Decision.ALLOW, f"RBAC: allowed by {binding.describe(subject)}"
        reason = ""
        if errors:
            reason = f"RBAC: {_aggregate(errors)}"
        return Decision.NO_OPINION, reason

    def rules_for(self, user: UserInfo, namespace: str) -> ResolvedRules:
        resolved = ResolvedRules()
        for _, _, rules in self.index.rules_for(user, namespace):
            if isinstance(rules, str):
                resolved.errors.append(rules)
            else:
                resolved.rules.extend(rules)
        return resolved


def _aggregate(errors: list[str]) -> str:
    """utilerrors.NewAggregate's message: one error alone, else `[a, b]`."""
    unique = list(dict.fromkeys(errors))
    return unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]"
