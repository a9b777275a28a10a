"""Escalation prevention on a real server, with upstream's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.auth.rbac.conftest import As
from kubelite.apiserver.auth.rbac.escalation import escalation_message, only_gc_fields_change
from kubelite.apiserver.auth.rbac.rules import Rule
from kubelite.apiserver.auth.user import UserInfo

RBAC = "/apis/rbac.authorization.k8s.io/v1"
PODS_READ = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
PODS_DELETE = {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]}


def role(name: str, *rules: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": "web"}, "rules": list(rules)}


def rolebinding(name: str, kind: str, role_name: str, subject: str) -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": "web"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role_name},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                          "name": subject}]}


@pytest.fixture
async def role_writer(as_user: As) -> As:
    """jane may read pods and write Roles and RoleBindings in `web`."""
    writes = {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"],
              "verbs": ["create", "update", "get"]}
    for path, body in [
        ("/api/v1/namespaces", {"metadata": {"name": "web"}}),
        (f"{RBAC}/namespaces/web/roles", role("jane-powers", PODS_READ, writes)),
        (f"{RBAC}/namespaces/web/rolebindings",
         rolebinding("jane-powers", "Role", "jane-powers", "jane")),
    ]:
        status, answer = await as_user("admin", "POST", path, body=body)
        assert status == 201, answer
    return as_user


async def test_a_role_may_grant_only_what_its_writer_holds(role_writer: As) -> None:
    status, _ = await role_writer("jane", "POST", f"{RBAC}/namespaces/web/roles",
                                  body=role("readers", PODS_READ))
    assert status == 201
    status, refusal = await role_writer("jane", "POST", f"{RBAC}/namespaces/web/roles",
                                        body=role("deleters", PODS_READ, PODS_DELETE))
    assert status == 403
    assert refusal["reason"] == "Forbidden"
    assert refusal["message"] == (
        'roles.rbac.authorization.k8s.io "deleters" is forbidden: user "jane" '
        '(groups=["developers" "system:authenticated"]) is attempting to grant RBAC '
        'permissions not currently held:\n{APIGroups:[""], Resources:["pods"], '
        'Verbs:["delete"]}')
    # an update is checked too
    _, readers = await role_writer("jane", "GET", f"{RBAC}/namespaces/web/roles/readers")
    readers["rules"].append(PODS_DELETE)
    status, _ = await role_writer("jane", "PUT", f"{RBAC}/namespaces/web/roles/readers",
                                  body=readers)
    assert status == 403


async def test_escalate_lets_a_writer_grant_more(role_writer: As) -> None:
    escalate = {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles"],
                "verbs": ["escalate"]}
    assert (await role_writer("admin", "POST", f"{RBAC}/namespaces/web/roles",
                              body=role("escalator", escalate)))[0] == 201
    assert (await role_writer("admin", "POST", f"{RBAC}/namespaces/web/rolebindings",
                              body=rolebinding("jane-escalates", "Role", "escalator",
                                               "jane")))[0] == 201
    status, _ = await role_writer("jane", "POST", f"{RBAC}/namespaces/web/roles",
                                  body=role("deleters", PODS_DELETE))
    assert status == 201


async def test_a_binding_needs_the_roles_permissions_or_bind(role_writer: As) -> None:
    status, refusal = await role_writer("jane", "POST", f"{RBAC}/namespaces/web/rolebindings",
                                        body=rolebinding("bob-admin", "ClusterRole",
                                                         "cluster-admin", "bob"))
    assert status == 403
    assert refusal["message"].startswith(
        'rolebindings.rbac.authorization.k8s.io "bob-admin" is forbidden: user "jane" '
        '(groups=["developers" "system:authenticated"]) is attempting to grant RBAC '
        'permissions not currently held:\n')
    assert '{APIGroups:["*"], Resources:["*"], Verbs:["*"]}' in refusal["message"]
    # a role whose rules jane holds may be bound
    assert (await role_writer("admin", "POST", f"{RBAC}/namespaces/web/roles",
                              body=role("readers", PODS_READ)))[0] == 201
    assert (await role_writer("jane", "POST", f"{RBAC}/namespaces/web/rolebindings",
                              body=rolebinding("bob-reads", "Role", "readers", "bob")))[0] == 201
    # `bind` on the ClusterRole by name lets her bind it anyway
    binder = role("binder", {"apiGroups": ["rbac.authorization.k8s.io"],
                             "resources": ["clusterroles"], "verbs": ["bind"],
                             "resourceNames": ["cluster-admin"]})
    assert (await role_writer("admin", "POST", f"{RBAC}/namespaces/web/roles",
                              body=binder))[0] == 201
    assert (await role_writer("admin", "POST", f"{RBAC}/namespaces/web/rolebindings",
                              body=rolebinding("jane-binds", "Role", "binder", "jane")))[0] == 201
    assert (await role_writer("jane", "POST", f"{RBAC}/namespaces/web/rolebindings",
                              body=rolebinding("bob-admin", "ClusterRole", "cluster-admin",
                                               "bob")))[0] == 201


async def test_binding_a_missing_role_is_an_internal_error(role_writer: As) -> None:
    status, answer = await role_writer("jane", "POST", f"{RBAC}/namespaces/web/rolebindings",
                                       body=rolebinding("ghost", "Role", "nope", "bob"))
    assert status == 500
    assert answer["message"] == ('Internal error occurred: role.rbac.authorization.k8s.io '
                                 '"nope" not found')


async def test_system_masters_may_grant_anything(as_user: As) -> None:
    status, _ = await as_user("admin", "POST", f"{RBAC}/clusterroles", body={
        "metadata": {"name": "everything"}, "aggregationRule": {"clusterRoleSelectors": [
            {"matchLabels": {"x": "y"}}]}})
    assert status == 201


@pytest.mark.parametrize("new, old, only_gc", [
    ({"metadata": {"name": "r", "finalizers": ["f"]}, "rules": []},
     {"metadata": {"name": "r"}, "rules": []}, True),
    ({"metadata": {"name": "r", "ownerReferences": [{"uid": "1"}], "resourceVersion": "9"}},
     {"metadata": {"name": "r", "resourceVersion": "8"}}, True),
    ({"metadata": {"name": "r"}, "rules": [PODS_DELETE]},
     {"metadata": {"name": "r"}, "rules": []}, False),
    ({"metadata": {"name": "r", "labels": {"a": "b"}}}, {"metadata": {"name": "r"}}, False),
    ({"metadata": {"name": "r"}}, None, False),
], ids=["finalizers", "owner-references", "rules", "labels", "create"])
def test_only_gc_fields_change(new: dict[str, Any], old: dict[str, Any] | None,
                               only_gc: bool) -> None:
    assert only_gc_fields_change(new, old) is only_gc


def test_escalation_message_lists_missing_rules_sorted_and_compacted() -> None:
    missing = [Rule(("list",), ("",), ("pods",)), Rule(("get",), ("",), ("pods",)),
               Rule(("get",), non_resource_urls=("/metrics",))]
    assert escalation_message(UserInfo("jane", groups=("a", "b")), missing,
                              ['clusterrole.rbac.authorization.k8s.io "x" not found']) == (
        'user "jane" (groups=["a" "b"]) is attempting to grant RBAC permissions not '
        'currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["list" "get"]}\n'
        '{NonResourceURLs:["/metrics"], Verbs:["get"]}; resolution errors: '
        '[clusterrole.rbac.authorization.k8s.io "x" not found]')
