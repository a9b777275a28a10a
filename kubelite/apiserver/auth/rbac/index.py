"""The RBAC objects, indexed by subject, as the authorizer's rule resolver reads them.

Upstream's DefaultRuleResolver (pkg/registry/rbac/validation/rule.go) lists every
ClusterRoleBinding, and every RoleBinding of the namespace, on each request and asks
each whether it applies to the user. kubelite keeps indexes instead, maintained from
the watch cache's own events (as crds.Serving follows CRDs), so resolving a request is
a lookup per name the user goes by, not a scan:

    cluster subjects:   ("User"|"Group", name)               -> ClusterRoleBindings
    namespace subjects: (namespace, "User"|"Group", name)   -> RoleBindings there
    roles:              (namespace, name) -> compiled rules  (ClusterRoles: namespace "")

A ServiceAccount subject is indexed as the user it authenticates as,
`system:serviceaccount:<ns>:<name>` (upstream compares exactly that), its namespace
defaulting to the RoleBinding's; in a ClusterRoleBinding one without a namespace
matches nobody. Roles are resolved by name when a request comes, so a binding may
name a role created later, and a changed role applies at once.

The indexes are built from the cache on first use (the cache must have loaded) and
then follow its events synchronously: a write is visible to the next request once the
cache has it, the same freshness every read of the server has.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from kubelite.apiserver.auth.rbac.rules import Rule, go_quote, rules_from_api
from kubelite.apiserver.auth.user import UserInfo, service_account_username
from kubelite.apiserver.watchcache import Cache, CacheEvent, Entry

RBAC_GROUP = "rbac.authorization.k8s.io"
_PLURALS = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")


class _Store(Protocol):
    prefix: str


class Stores(Protocol):
    def store_for(self, group: str, plural: str) -> _Store: ...


@dataclass(frozen=True, slots=True)
class RoleRef:
    kind: str  # Role or ClusterRole
    name: str


@dataclass(frozen=True, slots=True)
class Binding:
    kind: str  # RoleBinding or ClusterRoleBinding
    namespace: str
    name: str
    role_ref: RoleRef
    subjects: tuple[tuple[str, str, str], ...]  # index key and how upstream describes it

    def describe(self, subject: str) -> str:
        """Upstream's binding describers, for `RBAC: allowed by ...` reasons."""
        name = f"{self.name}/{self.namespace}" if self.namespace else self.name
        return (f"{self.kind} {go_quote(name)} of {self.role_ref.kind} "
                f"{go_quote(self.role_ref.name)} to {subject}")


def _binding(kind: str, obj: dict[str, Any]) -> Binding:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace") or ""
    ref = obj.get("roleRef") or {}
    subjects: list[tuple[str, str, str]] = []
    for subject in obj.get("subjects") or ():
        if not isinstance(subject, dict):
            continue
        subject_kind, name = subject.get("kind"), str(subject.get("name") or "")
        if subject_kind in ("User", "Group"):
            subjects.append((subject_kind, name, f"{subject_kind} {go_quote(name)}"))
        elif subject_kind == "ServiceAccount":
            sa_namespace = subject.get("namespace") or namespace
            if sa_namespace:
                subjects.append(("User", service_account_username(sa_namespace, name),
                                 f"ServiceAccount {go_quote(f'{sa_namespace}/{name}')}"))
    return Binding(kind, namespace, str(meta.get("name") or ""),
                   RoleRef(str(ref.get("kind") or ""), str(ref.get("name") or "")),
                   tuple(subjects))


class PolicyIndex:
    def __init__(self, cache: Cache, stores: Stores) -> None:
        self.cache = cache
        self._kind_of = {stores.store_for(RBAC_GROUP, plural).prefix: plural
                         for plural in _PLURALS}
        self._loaded = False
        self.roles: dict[tuple[str, str], tuple[Rule, ...]] = {}
        self.bindings: dict[tuple[str, str], Binding] = {}  # (namespace, name)
        # (namespace or "", "User"|"Group", name) -> binding keys
        self.by_subject: dict[tuple[str, str, str], set[tuple[str, str]]] = (
            collections.defaultdict(set))
        cache.add_listener(self._on_event)

    # -- following the cache -------------------------------------------------------

    def ensure_loaded(self) -> None:
        if self._loaded or not self.cache.ready.is_set():
            return
        self._loaded = True
        for prefix, plural in self._kind_of.items():
            for entry in list(self.cache.bucket(prefix).values()):
                self._put(plural, entry)

    def _on_event(self, ev: CacheEvent) -> None:
        if not self._loaded:
            return  # the first use reads the cache as it stands then
        plural = self._kind_of.get(Cache.prefix_of(ev.key))
        if plural is None:
            return
        if ev.prev is not None:
            self._drop(plural, ev.prev)
        if ev.type != "DELETED":
            self._put(plural, ev.entry)

    def _put(self, plural: str, entry: Entry) -> None:
        obj = entry.obj
        key = (entry.namespace, entry.name)
        if plural in ("roles", "clusterroles"):
            self.roles[key] = rules_from_api(obj.get("rules"))
            return
        binding = _binding("RoleBinding" if plural == "rolebindings" else "ClusterRoleBinding",
                           obj)
        self.drop_binding(key)
        self.bindings[key] = binding
        for kind, name, _ in binding.subjects:
            self.by_subject[(entry.namespace, kind, name)].add(key)

    def _drop(self, plural: str, entry: Entry) -> None:
        key = (entry.namespace, entry.name)
        if plural in ("roles", "clusterroles"):
            self.roles.pop(key, None)
        else:
            self.drop_binding(key)

    def drop_binding(self, key: tuple[str, str]) -> None:
        binding = self.bindings.pop(key, None)
        if binding is None:
            return
        for kind, name, _ in binding.subjects:
            holders = self.by_subject.get((key[0], kind, name))
            if holders is not None:
                holders.discard(key)
                if not holders:
                    del self.by_subject[(key[0], kind, name)]

    # -- resolving -------------------------------------------------------------------

    def role_rules(self, ref: RoleRef, namespace: str) -> tuple[Rule, ...] | str:
        """The rules of a binding's role, or upstream's error when it is missing."""
        if ref.kind == "ClusterRole":
            rules = self.roles.get(("", ref.name))
            resource = "clusterrole"
        elif ref.kind == "Role" and namespace:
            rules = self.roles.get((namespace, ref.name))
            resource = "role"
        else:
            return f"unsupported role reference kind: {go_quote(ref.kind)}"
        if rules is None:
            return f"{resource}.{RBAC_GROUP} {go_quote(ref.name)} not found"
        return rules

    def applying_bindings(self, user: UserInfo, namespace: str
                          ) -> Iterator[tuple[Binding, str]]:
        """The bindings that apply to the user in the namespace (ClusterRoleBindings
        first, then the namespace's RoleBindings), each with the subject that matched."""
        self.ensure_loaded()
        names = [("User", user.name), *(("Group", g) for g in user.groups)]
        scopes = ("", namespace) if namespace else ("",)
        for scope in scopes:
            seen: set[tuple[str, str]] = set()
            for kind, name in names:
                for key in self.by_subject.get((scope, kind, name), ()):
                    if key in seen:
                        continue
                    seen.add(key)
                    binding = self.bindings[key]
                    subject = next(d for k, n, d in binding.subjects if (k, n) == (kind, name))
                    yield binding, subject

    def rules_for(self, user: UserInfo, namespace: str
                  ) -> Iterator[tuple[Binding, str, tuple[Rule, ...] | str]]:
        """Each applying binding with its subject and its role's rules (or the error)."""
        for binding, subject in self.applying_bindings(user, namespace):
            yield binding, subject, self.role_rules(binding.role_ref, binding.namespace)
