"""Roles, ClusterRoles and their bindings (pkg/apis/rbac/validation, rbac/v1 defaults).

Rules need verbs, and either resources with API groups or (cluster-scoped only)
non-resource URLs. Bindings default roleRef.apiGroup and User/Group subjects' apiGroup
to rbac.authorization.k8s.io, and may never change their roleRef.
"""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.registry.strategy import DefaultStrategy
from kubelite.machinery.errors import Cause

from .causes import invalid, not_supported, path, required
from .names import path_segment

Obj = dict[str, Any]
RBAC_GROUP = "rbac.authorization.k8s.io"


def validate_policy_rule(rule: Obj, namespaced: bool, base: str) -> list[Cause]:
    causes: list[Cause] = []
    if not rule.get("verbs"):
        causes.append(required(path(base, "verbs"), "verbs must contain at least one value"))
    urls = rule.get("nonResourceURLs") or []
    if urls:
        if namespaced:
            causes.append(invalid(path(base, "nonResourceURLs"), urls,
                                  "namespaced rules cannot apply to non-resource URLs"))
        if rule.get("apiGroups") or rule.get("resources") or rule.get("resourceNames"):
            causes.append(invalid(path(base, "nonResourceURLs"), urls,
                                  "rules cannot apply to both regular resources and non-resource URLs"))
        return causes
    if not rule.get("apiGroups"):
        causes.append(required(path(base, "apiGroups"), "resource rules must supply at least one api group"))
    if not rule.get("resources"):
        causes.append(required(path(base, "resources"), "resource rules must supply at least one resource"))
    return causes


class _RBACStrategy(DefaultStrategy):
    """What every RBAC kind shares: names are path segments (ValidateRBACName), and a
    PUT creates a missing object (AllowCreateOnUpdate: true for all four)."""

    allow_create_on_update = True

    def validate_name(self, name: str, prefix: bool = False) -> list[str]:
        return path_segment(name, prefix)


class RoleStrategy(_RBACStrategy):
    namespaced = True

    def validate(self, role: Obj) -> list[Cause]:
        causes: list[Cause] = []
        for i, rule in enumerate(role.get("rules") or []):
            causes += validate_policy_rule(rule or {}, self.namespaced, path("rules", i))
        return causes


class ClusterRoleStrategy(RoleStrategy):
    namespaced = False

    def validate(self, role: Obj) -> list[Cause]:
        # An aggregated ClusterRole's rules are the aggregation controller's to fill.
        return super().validate(role)


class RoleBindingStrategy(_RBACStrategy):
    role_kinds: tuple[str, ...] = ("Role", "ClusterRole")
    namespaced = True

    def default(self, binding: Obj) -> None:
        ref = binding.get("roleRef")
        if isinstance(ref, dict) and not ref.get("apiGroup"):
            ref["apiGroup"] = RBAC_GROUP
        for subject in binding.get("subjects") or ():
            if isinstance(subject, dict) and not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
                subject["apiGroup"] = RBAC_GROUP

    def validate(self, binding: Obj) -> list[Cause]:
        ref = binding.get("roleRef") or {}
        causes: list[Cause] = []
        if ref.get("apiGroup") != RBAC_GROUP:
            causes.append(not_supported("roleRef.apiGroup", ref.get("apiGroup", ""), [RBAC_GROUP]))
        if ref.get("kind") not in self.role_kinds:
            causes.append(not_supported("roleRef.kind", ref.get("kind", ""), self.role_kinds))
        if not ref.get("name"):
            causes.append(required("roleRef.name"))
        for i, subject in enumerate(binding.get("subjects") or []):
            causes += _validate_subject(subject or {}, self.namespaced, path("subjects", i))
        return causes

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        if new.get("roleRef") != old.get("roleRef"):
            return [invalid("roleRef", new.get("roleRef"), "cannot change roleRef")]
        return []


class ClusterRoleBindingStrategy(RoleBindingStrategy):
    role_kinds = ("ClusterRole",)
    namespaced = False


def _validate_subject(subject: Obj, namespaced: bool, base: str) -> list[Cause]:
    causes: list[Cause] = []
    if not subject.get("name"):
        causes.append(required(path(base, "name")))
    kind = subject.get("kind")
    if kind == "ServiceAccount":
        if subject.get("apiGroup"):
            causes.append(not_supported(path(base, "apiGroup"), subject["apiGroup"], [""]))
        if not namespaced and not subject.get("namespace"):
            causes.append(required(path(base, "namespace")))
    elif kind in ("User", "Group"):
        if subject.get("apiGroup") != RBAC_GROUP:
            causes.append(not_supported(path(base, "apiGroup"), subject.get("apiGroup", ""), [RBAC_GROUP]))
    else:
        causes.append(not_supported(path(base, "kind"), kind or "", ["ServiceAccount", "User", "Group"]))
    return causes
