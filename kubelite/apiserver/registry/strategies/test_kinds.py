"""Every served kind's strategy against upstream's values for the questions the generic
store asks (pkg/registry/*/strategy.go and */storage/storage.go upstream)."""

import pytest

from kubelite.api.catalogue import RESOURCES
from kubelite.apiserver.registry.strategies import strategy_for
from kubelite.apiserver.registry.strategy import DefaultStrategy, StatusStrategy

# AllowCreateOnUpdate() true upstream; every other served kind says false.
CREATE_ON_UPDATE = {
    ("", "endpoints"), ("", "events"), ("events.k8s.io", "events"), ("", "services"),
    ("", "limitranges"), ("coordination.k8s.io", "leases"),
    ("rbac.authorization.k8s.io", "roles"), ("rbac.authorization.k8s.io", "clusterroles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
}
# Stores with ReturnDeletedObject: true upstream.
RETURNS_DELETED_OBJECT = {
    ("", "pods"), ("", "services"), ("", "namespaces"), ("", "persistentvolumeclaims"),
    ("", "persistentvolumes"), ("", "resourcequotas"), ("", "serviceaccounts"),
    ("", "podtemplates"), ("storage.k8s.io", "storageclasses"),
    ("storage.k8s.io", "csidrivers"), ("storage.k8s.io", "csinodes"),
    ("storage.k8s.io", "volumeattachments"),
}
# AllowUnconditionalUpdate() false upstream.
NEEDS_RESOURCE_VERSION = {("apiextensions.k8s.io", "customresourcedefinitions")}

KINDS = [(spec.group, spec.plural) for spec in RESOURCES]
SPECS = {(spec.group, spec.plural): spec for spec in RESOURCES}
IDS = [f"{plural}.{group}" if group else plural for group, plural in KINDS]


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_create_on_update_is_upstreams(kind):
    assert strategy_for(SPECS[kind]).allow_create_on_update is (kind in CREATE_ON_UPDATE)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_delete_answers_with_the_object_where_upstream_does(kind):
    assert strategy_for(SPECS[kind]).return_deleted_object is (kind in RETURNS_DELETED_OBJECT)


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_unconditional_update_is_upstreams(kind):
    strategy = strategy_for(SPECS[kind])
    assert strategy.allow_unconditional_update is (kind not in NEEDS_RESOURCE_VERSION)
    for sub in strategy.subresource_strategies().values():
        if isinstance(sub, StatusStrategy):
            assert sub.allow_unconditional_update is strategy.allow_unconditional_update


@pytest.mark.parametrize("kind", KINDS, ids=IDS)
def test_every_writable_subresource_has_a_strategy(kind):
    spec = SPECS[kind]
    served = set(strategy_for(spec).subresource_strategies())
    # scale writes the workload itself; eviction is a delete; token stores nothing
    # (a create-only resource, apiserver/create_only.py).
    assert set(spec.subresources) - {"scale", "eviction", "token"} <= served


@pytest.mark.parametrize(
    ("group", "plural", "name", "valid"),
    [
        ("", "pods", "web-0", True),
        ("", "pods", "Bad_Name", False),
        ("", "configmaps", "kube-root-ca.crt", True),
        ("", "namespaces", "a.b", False),
        ("apps", "statefulsets", "db.x", False),
        ("apps", "deployments", "db.x", True),
        ("", "services", "1web", False),
        ("", "services", "web", True),
        ("rbac.authorization.k8s.io", "clusterroles", "system:node", True),
        ("rbac.authorization.k8s.io", "clusterrolebindings", "system:node", True),
        ("rbac.authorization.k8s.io", "roles", "a/b", False),
        ("batch", "cronjobs", "c" * 53, False),
        ("batch", "jobs", "c" * 53, True),
    ],
    ids=["pod-ok", "pod-bad", "cm-dots", "ns-label", "sts-label", "deploy-subdomain",
         "svc-digit", "svc-ok", "clusterrole-colon", "crb-colon", "role-slash",
         "cronjob-52", "job-subdomain"],
)
def test_validate_name_applies_the_kinds_rule(group, plural, name, valid):
    assert (strategy_for(SPECS[(group, plural)]).validate_name(name) == []) is valid


POD_STRATEGY = strategy_for(SPECS[("", "pods")])


@pytest.mark.parametrize(
    ("pod", "options", "want"),
    [
        ({"spec": {}}, {}, 0),
        ({"spec": {"nodeName": "n1"}}, {}, 30),
        ({"spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 5}}, {}, 5),
        ({"spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 5}},
         {"gracePeriodSeconds": 1}, 1),
        ({"spec": {"nodeName": "n1"}}, {"gracePeriodSeconds": -3}, 0),
        ({"spec": {"nodeName": "n1"}, "status": {"phase": "Succeeded"}}, {}, 0),
        ({"spec": {"nodeName": "n1"}, "status": {"phase": "Failed"}}, {}, 0),
    ],
    ids=["unscheduled", "default-30", "pod-own", "request-wins", "negative-is-0",
         "succeeded", "failed"],
)
def test_pod_grace_period_follows_check_graceful_delete(pod, options, want):
    assert POD_STRATEGY.grace_period(pod, options) == want


@pytest.mark.parametrize("kind", [k for k in KINDS if k != ("", "pods")],
                         ids=[i for k, i in zip(KINDS, IDS) if k != ("", "pods")])
def test_only_pods_are_graceful(kind):
    obj = {"spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 30}}
    assert strategy_for(SPECS[kind]).grace_period(obj, {"gracePeriodSeconds": 10}) == 0


def test_a_namespace_is_held_by_its_spec_finalizers_and_turns_terminating():
    strategy = strategy_for(SPECS[("", "namespaces")])
    ns = {"metadata": {"name": "a"}, "spec": {"finalizers": ["kubernetes"]},
          "status": {"phase": "Active"}}
    assert strategy.deletion_finalizers(ns) == ["kubernetes"]
    strategy.mark_deleting(ns)
    assert ns["status"]["phase"] == "Terminating"


def test_other_kinds_have_no_extra_finalizers():
    strategy = DefaultStrategy()
    obj = {"spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    assert strategy.deletion_finalizers(obj) == []
    strategy.mark_deleting(obj)
    assert obj["status"] == {"phase": "Active"}
