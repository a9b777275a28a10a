"""Escalation prevention on RBAC writes (upstream's pkg/registry/rbac/*/policybased
and validation.ConfirmNoEscalation).

Whoever creates or updates a Role or ClusterRole must already hold every permission
it grants, unless they may `escalate` roles (clusterroles); whoever creates or updates
a RoleBinding or ClusterRoleBinding must hold every permission of the role it names,
unless they may `bind` that role. Members of `system:masters` always may. "Holding"
means the RBAC rules that apply to the writer in the object's namespace (cluster-wide
rules only, for cluster-scoped objects). A ClusterRole with an aggregationRule may
gather anything, so setting one needs `*` on everything.

A refusal is upstream's Forbidden, e.g. `roles.rbac.authorization.k8s.io "pod-admin"
is forbidden: user "jane" (groups=["system:authenticated"]) is attempting to grant RBAC
permissions not currently held:` followed by the missing rules, one per line.

Runs as a validating admission plugin, after the kind's strategy has validated the
object, on writes that carry a user (the server's own writes carry none). An update
that changes only what the garbage collector changes (ownerReferences, finalizers) is
never checked, as upstream's IsOnlyMutatingGCFields.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubelite.apiserver.admission.chain import Attributes, Finish, Operation
from kubelite.apiserver.auth import attributes as authz
from kubelite.apiserver.auth.rbac.authorizer import RBACAuthorizer
from kubelite.apiserver.auth.rbac.index import RBAC_GROUP, RoleRef
from kubelite.apiserver.auth.rbac.rules import (
    Rule,
    compact,
    compact_string,
    covers,
    go_quote,
    go_quote_list,
    rules_from_api,
)
from kubelite.apiserver.auth.user import UserInfo
from kubelite.machinery import errors

Obj = dict[str, Any]

FULL_AUTHORITY = (Rule(("*",), ("*",), ("*",)), Rule(("*",), non_resource_urls=("*",)))
_GC_FIELDS = ("ownerReferences", "finalizers", "managedFields", "resourceVersion",
              "generation", "selfLink")


def only_gc_fields_change(new: Obj, old: Obj | None) -> bool:
    if old is None:
        return False

    def stripped(obj: Obj) -> Obj:
        meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _GC_FIELDS}
        return {**obj, "metadata": meta}
    return stripped(new) == stripped(old)


def escalation_message(user: UserInfo, missing: list[Rule], resolution_errors: list[str]
                       ) -> str:
    lines = sorted({compact_string(r) for r in compact(missing)})
    message = (f"user {go_quote(user.name)} (groups={go_quote_list(user.groups)}) is "
               "attempting to grant RBAC permissions not currently held:\n" + "\n".join(lines))
    if resolution_errors:
        message += f"; resolution errors: [{' '.join(resolution_errors)}]"
    return message


class EscalationCheck:
    name: ClassVar[str] = "RBACEscalation"

    def __init__(self, authorizer: authz.Authorizer, rbac: RBACAuthorizer) -> None:
        """`authorizer`: the server's chain, asked for `escalate` and `bind`; `rbac`:
        whose rules say what the writer holds."""
        self.authorizer = authorizer
        self.rbac = rbac

    def handles(self, attrs: Attributes) -> bool:
        return (attrs.resource.group == RBAC_GROUP and not attrs.subresource
                and attrs.operation in (Operation.CREATE, Operation.UPDATE)
                and attrs.user is not None and not attrs.user.privileged)

    async def validate(self, attrs: Attributes) -> Finish | None:
        assert attrs.user is not None
        if attrs.operation is Operation.UPDATE and only_gc_fields_change(attrs.obj, attrs.old):
            return None
        if attrs.resource.plural in ("roles", "clusterroles"):
            await self._check_role(attrs, attrs.user)
        else:
            await self._check_binding(attrs, attrs.user)
        return None

    async def _allowed(self, user: UserInfo, verb: str, resource: str, name: str,
                       namespace: str) -> bool:
        decision, _ = await self.authorizer.authorize(authz.Attributes(
            user=user, verb=verb, resource_request=True, api_group=RBAC_GROUP,
            api_version="*", namespace=namespace, resource=resource, name=name))
        return decision is authz.Decision.ALLOW

    async def _check_role(self, attrs: Attributes, user: UserInfo) -> None:
        # the request's name: none on a create, as upstream's RequestInfo has it
        name = attrs.name if attrs.operation is Operation.UPDATE else ""
        if await self._allowed(user, "escalate", attrs.resource.plural, name, attrs.namespace):
            return
        self._confirm(attrs, user, rules_from_api(attrs.obj.get("rules") or []))
        if attrs.resource.plural == "clusterroles" and attrs.obj.get("aggregationRule"):
            try:
                self._confirm(attrs, user, FULL_AUTHORITY)
            except errors.Forbidden:
                raise attrs.forbidden(
                    "must have cluster-admin privileges to use the aggregationRule") from None

    async def _check_binding(self, attrs: Attributes, user: UserInfo) -> None:
        ref = attrs.obj.get("roleRef") or {}
        ref_kind, ref_name = str(ref.get("kind") or ""), str(ref.get("name") or "")
        resource = {"ClusterRole": "clusterroles", "Role": "roles"}.get(ref_kind)
        if resource and await self._allowed(user, "bind", resource, ref_name, attrs.namespace):
            return
        rules = self.rbac.index.role_rules(RoleRef(ref_kind, ref_name), attrs.namespace)
        if isinstance(rules, str):
            raise errors.InternalError(f"Internal error occurred: {rules}")
        self._confirm(attrs, user, rules)

    def _confirm(self, attrs: Attributes, user: UserInfo, rules: tuple[Rule, ...]) -> None:
        held = self.rbac.rules_for(user, attrs.namespace)
        missing = covers(held.rules, rules)
        if missing:
            raise attrs.forbidden(escalation_message(user, missing, held.errors))
