"""The default policy, reconciled into the store on every start (upstream's
pkg/registry/rbac/rest/storage_rbac.go PostStartHook and pkg/registry/rbac/reconciliation).

For each default role and binding:

- missing: created;
- annotated `rbac.authorization.kubernetes.io/autoupdate: "false"`: left alone, the
  way an administrator keeps their own edit of a default;
- otherwise: labels and annotations it lacks are added (its own values win), rules it
  does not cover are added (broken down, as upstream adds the uncovered pieces), the
  aggregation rule's missing selectors are added; a binding gets the subjects it
  lacks, and one whose roleRef differs (roleRef is immutable) is deleted and created
  afresh. Nothing is ever removed: permissions an administrator added stay.

Reconciling writes only what changed, so a restart of an up-to-date cluster writes
nothing.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Protocol

from kubelite.apiserver.auth.rbac import controller_policy, policy
from kubelite.apiserver.auth.rbac.rules import covers, rules_from_api
from kubelite.machinery import errors

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class _Store(Protocol):
    async def get(self, namespace: str, name: str) -> Any: ...

    async def create(self, namespace: str, obj: Obj, opts: Any) -> Obj: ...

    async def update(self, namespace: str, name: str, obj: Obj, opts: Any
                     ) -> tuple[Obj, bool]: ...

    async def delete(self, namespace: str, name: str, options: Obj, opts: Any
                     ) -> tuple[Obj, bool]: ...


class Stores(Protocol):
    def store_for(self, group: str, plural: str) -> Any: ...


def default_policy() -> list[tuple[str, Obj]]:
    """Every default object with its resource, roles before the bindings naming them."""
    return ([("clusterroles", r) for r in policy.cluster_roles()]
            + [("clusterroles", r) for r in controller_policy.controller_roles()]
            + [("clusterrolebindings", b) for b in policy.cluster_role_bindings()]
            + [("clusterrolebindings", b) for b in controller_policy.controller_role_bindings()]
            + [("roles", r) for r in policy.namespace_roles()]
            + [("rolebindings", b) for b in policy.namespace_role_bindings()])


def protected(existing: Obj) -> bool:
    annotations = (existing.get("metadata") or {}).get("annotations") or {}
    return annotations.get(policy.AUTOUPDATE) == "false"


def reconciled(existing: Obj, expected: Obj) -> Obj | None:
    """The object with what the default adds, or None when nothing needs adding."""
    if protected(existing):
        return None
    result = copy.deepcopy(existing)
    meta, wanted_meta = result.setdefault("metadata", {}), expected["metadata"]
    for field in ("labels", "annotations"):
        merged = {**(wanted_meta.get(field) or {}), **(meta.get(field) or {})}
        if merged:
            meta[field] = merged
    if expected["kind"] in ("ClusterRole", "Role"):
        missing = covers(rules_from_api(result.get("rules") or []),
                         rules_from_api(expected.get("rules") or []))
        if missing:
            result["rules"] = list(result.get("rules") or []) + [r.to_api() for r in missing]
        wanted = (expected.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
        if wanted:
            current = (result.get("aggregationRule") or {}).get("clusterRoleSelectors") or []
            added = [s for s in wanted if s not in current]
            if added:
                result["aggregationRule"] = {"clusterRoleSelectors": current + added}
    else:
        subjects = list(result.get("subjects") or [])
        subjects += [s for s in expected.get("subjects") or [] if s not in subjects]
        if subjects:
            result["subjects"] = subjects
    return None if result == existing else result


async def reconcile_policy(stores: Stores, opts: Any) -> None:
    """Put the default policy in the store (see the module docstring)."""
    for plural, expected in default_policy():
        try:
            await _reconcile_one(stores.store_for(policy.RBAC_GROUP, plural), expected, opts)
        except errors.StatusError as err:
            # One object failing (a namespace being deleted, a conflict with a writer)
            # must not keep the server from starting; the next start tries again.
            log.warning("could not reconcile %s %s: %s", plural,
                        expected["metadata"]["name"], err)


async def _reconcile_one(store: _Store, expected: Obj, opts: Any) -> None:
    meta = expected["metadata"]
    namespace, name = meta.get("namespace", ""), meta["name"]
    try:
        existing = (await store.get(namespace, name)).obj
    except errors.NotFound:
        await store.create(namespace, copy.deepcopy(expected), opts)
        return
    if (expected["kind"].endswith("Binding") and not protected(existing)
            and existing.get("roleRef") != expected.get("roleRef")):
        # roleRef cannot change: the binding is made again around the new one,
        # keeping its subjects
        await store.delete(namespace, name, {}, opts)
        fresh = copy.deepcopy(expected)
        kept = list(existing.get("subjects") or [])
        fresh["subjects"] = kept + [s for s in fresh["subjects"] if s not in kept]
        await store.create(namespace, fresh, opts)
        return
    result = reconciled(existing, expected)
    if result is not None:
        await store.update(namespace, name, result, opts)
