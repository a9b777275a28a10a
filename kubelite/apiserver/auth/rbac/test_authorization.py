"""RBAC on a real server: users bound to roles, the default policy, escalation checks,
impersonation and the authorization.k8s.io reviews."""

from __future__ import annotations

from typing import Any

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.rbac.conftest import As

RBAC = "/apis/rbac.authorization.k8s.io/v1"
AUTHZ = "/apis/authorization.k8s.io/v1"


def role(name: str, *rules: dict[str, Any], namespace: str = "web") -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace}, "rules": list(rules)}


def binding(name: str, kind: str, role_name: str, *subjects: dict[str, Any],
            namespace: str = "web") -> dict[str, Any]:
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": name, "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind,
                        "name": role_name},
            "subjects": list(subjects)}


def user(name: str) -> dict[str, str]:
    return {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": name}


async def setup_pod_reader(as_user: As) -> None:
    for path, body in [
        ("/api/v1/namespaces", {"metadata": {"name": "web"}}),
        (f"{RBAC}/namespaces/web/roles",
         role("pod-reader", {"apiGroups": [""], "resources": ["pods"],
                             "verbs": ["get", "list", "watch"]})),
        (f"{RBAC}/namespaces/web/rolebindings",
         binding("jane-reads", "Role", "pod-reader", user("jane"))),
        ("/api/v1/namespaces/web/pods",
         {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}),
    ]:
        status, answer = await as_user("admin", "POST", path, body=body)
        assert status == 201, answer


async def test_a_role_binding_allows_its_rules_and_nothing_more(as_user: As) -> None:
    await setup_pod_reader(as_user)
    status, pods = await as_user("jane", "GET", "/api/v1/namespaces/web/pods")
    assert status == 200 and [p["metadata"]["name"] for p in pods["items"]] == ["p"]
    status, refusal = await as_user("jane", "DELETE", "/api/v1/namespaces/web/pods/p")
    assert status == 403
    assert refusal["reason"] == "Forbidden"
    assert refusal["message"] == ('pods "p" is forbidden: User "jane" cannot delete resource '
                                  '"pods" in API group "" in the namespace "web"')
    status, refusal = await as_user("jane", "GET", "/api/v1/namespaces/default/pods")
    assert status == 403
    assert refusal["message"] == ('pods is forbidden: User "jane" cannot list resource "pods" '
                                  'in API group "" in the namespace "default"')


async def test_a_binding_change_applies_to_the_next_request(as_user: As) -> None:
    await setup_pod_reader(as_user)
    path = f"{RBAC}/namespaces/web/rolebindings/jane-reads"
    assert (await as_user("admin", "DELETE", path))[0] == 200
    assert (await as_user("jane", "GET", "/api/v1/namespaces/web/pods"))[0] == 403
    group_binding = binding("devs-read", "Role", "pod-reader",
                            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                             "name": "developers"})
    assert (await as_user("admin", "POST", f"{RBAC}/namespaces/web/rolebindings",
                          body=group_binding))[0] == 201
    assert (await as_user("jane", "GET", "/api/v1/namespaces/web/pods"))[0] == 200


async def test_a_binding_to_a_missing_role_says_so(as_user: As) -> None:
    await setup_pod_reader(as_user)
    body = binding("ghost", "ClusterRole", "no-such-role", user("bob"))
    assert (await as_user("admin", "POST", f"{RBAC}/namespaces/web/rolebindings",
                          body=body))[0] == 201
    status, refusal = await as_user("bob", "GET", "/api/v1/namespaces/web/pods")
    assert status == 403
    assert refusal["message"].endswith(
        ': RBAC: clusterrole.rbac.authorization.k8s.io "no-such-role" not found')


async def test_anonymous_may_read_version_but_not_the_api(as_user: As) -> None:
    assert (await as_user(None, "GET", "/version"))[0] == 200
    assert (await as_user(None, "GET", "/healthz"))[0] == 200
    assert (await as_user(None, "GET", "/api"))[0] == 401


async def test_authenticated_users_get_discovery_and_self_reviews(as_user: As) -> None:
    assert (await as_user("bob", "GET", "/apis"))[0] == 200
    status, answer = await as_user("bob", "POST", f"{AUTHZ}/selfsubjectaccessreviews", body={
        "spec": {"resourceAttributes": {"verb": "list", "resource": "pods",
                                        "namespace": "default"}}})
    assert status == 201
    assert answer["kind"] == "SelfSubjectAccessReview"
    assert answer["status"] == {"allowed": False}


async def test_the_default_policy_is_in_the_store(as_user: As) -> None:
    status, roles = await as_user("admin", "GET", f"{RBAC}/clusterroles")
    names = {r["metadata"]["name"] for r in roles["items"]}
    assert {"cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user",
            "system:public-info-viewer", "system:node", "system:kube-scheduler",
            "system:controller:clusterrole-aggregation-controller"} <= names
    edit = next(r for r in roles["items"] if r["metadata"]["name"] == "edit")
    assert edit["metadata"]["annotations"] == {
        "rbac.authorization.kubernetes.io/autoupdate": "true"}
    assert edit["aggregationRule"] == {"clusterRoleSelectors": [
        {"matchLabels": {"rbac.authorization.k8s.io/aggregate-to-edit": "true"}}]}
    status, viewer = await as_user("admin", "GET",
                                   f"{RBAC}/clusterrolebindings/system:public-info-viewer")
    assert [s["name"] for s in viewer["subjects"]] == ["system:authenticated",
                                                       "system:unauthenticated"]


async def test_nodes_may_list_and_watch_every_node_for_their_routes(as_user: As) -> None:
    """system:kubelite-node-routes: a node's host-gw routes need every Node's podCIDR
    and InternalIP; getting another Node by name stays the Node authorizer's call."""
    status, answer = await as_user("admin", "POST", "/api/v1/nodes",
                                   body={"metadata": {"name": "n8"}})
    assert status == 201, answer
    status, nodes = await as_user("node", "GET", "/api/v1/nodes")
    assert status == 200 and [n["metadata"]["name"] for n in nodes["items"]] == ["n8"]
    status, _ = await as_user("node", "GET", "/api/v1/nodes?watch=1&timeoutSeconds=1")
    assert status == 200
    status, refusal = await as_user("node", "GET", "/api/v1/nodes/n8")
    assert status == 403, refusal
    status, _ = await as_user("jane", "GET", "/api/v1/nodes")
    assert status == 403


async def test_subject_access_review_asks_for_another_user(as_user: As) -> None:
    await setup_pod_reader(as_user)
    def review(verb: str) -> dict[str, Any]:
        return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
                "spec": {"user": "jane", "groups": ["developers"], "resourceAttributes": {
                    "verb": verb, "resource": "pods", "namespace": "web"}}}
    status, answer = await as_user("admin", "POST", f"{AUTHZ}/subjectaccessreviews",
                                   body=review("list"))
    assert status == 201
    assert answer["status"] == {
        "allowed": True,
        "reason": 'RBAC: allowed by RoleBinding "jane-reads/web" of Role "pod-reader" '
                  'to User "jane"'}
    status, answer = await as_user("admin", "POST", f"{AUTHZ}/subjectaccessreviews",
                                   body=review("delete"))
    assert answer["status"] == {"allowed": False}
    # jane herself may not ask about others
    assert (await as_user("jane", "POST", f"{AUTHZ}/subjectaccessreviews",
                          body=review("list")))[0] == 403


async def test_reviews_refuse_what_upstream_refuses(as_user: As) -> None:
    status, answer = await as_user("admin", "POST", f"{AUTHZ}/subjectaccessreviews",
                                   body={"spec": {"resourceAttributes": {"verb": "get"}}})
    assert status == 422
    assert answer["message"] == ('SubjectAccessReview.authorization.k8s.io "" is invalid: '
                                 'spec.user: Invalid value: "": at least one of user or '
                                 'group must be specified')
    status, answer = await as_user("admin", "POST", f"{AUTHZ}/selfsubjectrulesreviews",
                                   body={"spec": {}})
    assert (status, answer["message"]) == (400, "no namespace on request")
    status, answer = await as_user("admin", "POST",
                                   f"{AUTHZ}/namespaces/web/localsubjectaccessreviews",
                                   body={"spec": {"user": "jane", "resourceAttributes": {
                                       "verb": "get", "resource": "pods",
                                       "namespace": "other"}}})
    assert status == 422
    assert "spec.resourceAttributes.namespace: Invalid value: \"other\": must match " \
           "metadata.namespace" in answer["message"]
    assert (await as_user("admin", "GET", f"{AUTHZ}/subjectaccessreviews"))[0] == 405


async def test_self_subject_rules_review_lists_what_applies(as_user: As) -> None:
    await setup_pod_reader(as_user)
    status, answer = await as_user("jane", "POST", f"{AUTHZ}/selfsubjectrulesreviews",
                                   body={"spec": {"namespace": "web"}})
    assert status == 201
    assert {"verbs": ["get", "list", "watch"], "apiGroups": [""],
            "resources": ["pods"]} in answer["status"]["resourceRules"]
    assert answer["status"]["incomplete"] is False
    _, elsewhere = await as_user("jane", "POST", f"{AUTHZ}/selfsubjectrulesreviews",
                                 body={"spec": {"namespace": "default"}})
    assert {"verbs": ["get", "list", "watch"], "apiGroups": [""],
            "resources": ["pods"]} not in elsewhere["status"]["resourceRules"]


async def test_impersonation_needs_the_impersonate_verb(as_user: As) -> None:
    await setup_pod_reader(as_user)
    status, refusal = await as_user("bob", "GET", "/api/v1/namespaces/web/pods",
                                    headers={"Impersonate-User": "jane"})
    assert status == 403
    assert refusal["message"] == ('users "jane" is forbidden: User "bob" cannot impersonate '
                                  'resource "users" in API group "" at the cluster scope')
    status, _ = await as_user("admin", "GET", "/api/v1/namespaces/web/pods",
                              headers={"Impersonate-User": "jane"})
    assert status == 200
    status, refusal = await as_user("admin", "DELETE", "/api/v1/namespaces/web/pods/p",
                                    headers={"Impersonate-User": "jane"})
    assert status == 403 and 'User "jane" cannot delete' in refusal["message"]
    status, answer = await as_user("admin", "GET", "/api/v1/namespaces/web/pods",
                                   headers={"Impersonate-Group": "developers"})
    assert status == 500
    assert answer["message"] == ("Internal error occurred: requested [{Group  developers    }] "
                                 "without impersonating a user")


async def test_impersonated_groups_and_extras_are_authorized_one_by_one(as_user: As) -> None:
    await setup_pod_reader(as_user)
    impersonator = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                    "metadata": {"name": "impersonate-jane"},
                    "rules": [{"apiGroups": [""], "resources": ["users"],
                               "verbs": ["impersonate"], "resourceNames": ["jane"]}]}
    assert (await as_user("admin", "POST", f"{RBAC}/clusterroles", body=impersonator))[0] == 201
    assert (await as_user("admin", "POST", f"{RBAC}/clusterrolebindings", body={
        "metadata": {"name": "bob-as-jane"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "impersonate-jane"},
        "subjects": [user("bob")]}))[0] == 201
    status, _ = await as_user("bob", "GET", "/api/v1/namespaces/web/pods",
                              headers={"Impersonate-User": "jane"})
    assert status == 200
    status, refusal = await as_user("bob", "GET", "/api/v1/namespaces/web/pods",
                                    headers={"Impersonate-User": "jane",
                                             "Impersonate-Group": "developers"})
    assert status == 403
    assert refusal["message"].startswith('groups "developers" is forbidden: User "bob" cannot '
                                         'impersonate resource "groups"')
    status, refusal = await as_user("bob", "GET", "/api/v1/namespaces/web/pods",
                                    headers={"Impersonate-User": "jane",
                                             "Impersonate-Extra-Scopes": "view"})
    assert status == 403
    assert refusal["message"].startswith(
        'userextras.authentication.k8s.io "view" is forbidden: User "bob" cannot impersonate '
        'resource "userextras/scopes" in API group "authentication.k8s.io"')


async def test_reconciling_on_start_respects_autoupdate_false(secured: APIServer,
                                                              as_user: As) -> None:
    path = f"{RBAC}/clusterroles/system:monitoring"
    _, monitoring = await as_user("admin", "GET", path)
    monitoring["rules"] = []
    assert (await as_user("admin", "PUT", path, body=monitoring))[0] == 200
    _, discovery = await as_user("admin", "GET", f"{RBAC}/clusterroles/system:discovery")
    discovery["rules"] = []
    discovery["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] = "false"
    assert (await as_user("admin", "PUT", f"{RBAC}/clusterroles/system:discovery",
                          body=discovery))[0] == 200
    from kubelite.apiserver.bootstrap import bootstrap
    await bootstrap(secured.registry, secured.host, secured.port)
    _, monitoring = await as_user("admin", "GET", path)
    assert monitoring["rules"] and all(r["nonResourceURLs"] for r in monitoring["rules"])
    _, discovery = await as_user("admin", "GET", f"{RBAC}/clusterroles/system:discovery")
    assert discovery["rules"] == []
    assert (await as_user("bob", "GET", "/apis"))[0] == 403


async def test_service_account_subjects(as_user: As) -> None:
    await setup_pod_reader(as_user)
    robot = {"kind": "ServiceAccount", "name": "robot"}  # namespace: the binding's
    assert (await as_user("admin", "POST", f"{RBAC}/namespaces/web/rolebindings",
                          body=binding("robot-reads", "Role", "pod-reader", robot)))[0] == 201
    assert (await as_user("robot", "GET", "/api/v1/namespaces/web/pods"))[0] == 200
    # in a ClusterRoleBinding a service account without a namespace matches nobody
    assert (await as_user("admin", "POST", f"{RBAC}/clusterrolebindings", body={
        "metadata": {"name": "robot-nodes"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "system:node"},
        "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": ""}]}))[0] in (
        201, 422)
    assert (await as_user("robot", "GET", "/api/v1/nodes"))[0] == 403
    # the service-account group
    assert (await as_user("admin", "POST", f"{RBAC}/clusterrolebindings", body={
        "metadata": {"name": "web-accounts-read-nodes"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "system:node-proxier"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                      "name": "system:serviceaccounts:web"}]}))[0] == 201
    assert (await as_user("robot", "GET", "/api/v1/nodes"))[0] == 200


async def test_every_default_object_is_stored(secured: APIServer) -> None:
    from kubelite.apiserver.auth.rbac.reconcile import default_policy
    for plural, expected in default_policy():
        store = secured.registry.store_for("rbac.authorization.k8s.io", plural)
        meta = expected["metadata"]
        stored = (await store.get(meta.get("namespace", ""), meta["name"])).obj
        assert stored.get("roleRef") == expected.get("roleRef"), meta["name"]
        if "aggregationRule" not in expected:
            assert stored.get("rules") == expected.get("rules"), meta["name"]


async def test_a_cluster_role_aggregation_rule_needs_full_authority(as_user: As) -> None:
    escalate = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                "metadata": {"name": "role-writer"},
                "rules": [{"apiGroups": ["rbac.authorization.k8s.io"],
                           "resources": ["clusterroles"], "verbs": ["create"]}]}
    assert (await as_user("admin", "POST", f"{RBAC}/clusterroles", body=escalate))[0] == 201
    assert (await as_user("admin", "POST", f"{RBAC}/clusterrolebindings", body={
        "metadata": {"name": "jane-writes-roles"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "role-writer"},
        "subjects": [user("jane")]}))[0] == 201
    status, refusal = await as_user("jane", "POST", f"{RBAC}/clusterroles", body={
        "metadata": {"name": "gatherer"},
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"a": "b"}}]}})
    assert status == 403
    assert refusal["message"] == ('clusterroles.rbac.authorization.k8s.io "gatherer" is '
                                  'forbidden: must have cluster-admin privileges to use the '
                                  'aggregationRule')


async def test_a_changed_role_applies_at_once(as_user: As) -> None:
    await setup_pod_reader(as_user)
    path = f"{RBAC}/namespaces/web/roles/pod-reader"
    _, reader = await as_user("admin", "GET", path)
    reader["rules"][0]["verbs"].append("delete")
    assert (await as_user("admin", "PUT", path, body=reader))[0] == 200
    assert (await as_user("jane", "DELETE", "/api/v1/namespaces/web/pods/p"))[0] == 200
    assert (await as_user("admin", "DELETE", path))[0] == 200
    assert (await as_user("jane", "GET", "/api/v1/namespaces/web/pods"))[0] == 403
