import copy

import pytest

from kubelite.apiserver.registry.strategies import STRATEGIES

TEMPLATE_SPEC = {
    "containers": [{"name": "nginx", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent",
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File", "resources": {}}],
    "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler",
    "securityContext": {}, "terminationGracePeriodSeconds": 30,
}


def workload(kind, **spec):
    return {"kind": kind, "metadata": {"name": "web", "namespace": "default"},
            "spec": {"selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]}},
                     **spec}}


def created(plural, obj):
    strategy = STRATEGIES[("apps", plural)]
    strategy.prepare_for_create(obj)
    strategy.default(obj)
    return obj


@pytest.mark.parametrize(
    ("plural", "kind", "spec", "status"),
    [
        ("deployments", "Deployment", {
            "replicas": 1, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        }, {}),
        ("replicasets", "ReplicaSet", {"replicas": 1}, {"replicas": 0}),
        ("statefulsets", "StatefulSet", {
            "replicas": 1, "revisionHistoryLimit": 10, "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
        }, {"replicas": 0, "availableReplicas": 0}),
        ("daemonsets", "DaemonSet", {
            "revisionHistoryLimit": 10,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}},
        }, {"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}),
    ],
    ids=["deployment", "replicaset", "statefulset", "daemonset"],
)
def test_minimal_workload_is_fully_defaulted(plural, kind, spec, status):
    obj = created(plural, workload(kind))
    want = {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": TEMPLATE_SPEC}, **spec}
    assert obj["spec"] == want
    assert obj["status"] == status
    assert obj["metadata"]["generation"] == 1
    assert STRATEGIES[("apps", plural)].validate(obj) == []


def test_daemonset_template_generation_annotation():
    ds = STRATEGIES[("apps", "daemonsets")]
    old = created("daemonsets", workload("DaemonSet"))
    assert old["metadata"]["annotations"] == {"deprecated.daemonset.template.generation": "1"}
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
    ds.prepare_for_update(new, old)
    assert new["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda s: s.pop("selector"), "spec.selector", "Required value"),
        (lambda s: s.update(selector={"matchLabels": {"app": "other"}}), "spec.template.metadata.labels",
         'Invalid value: {"app":"web"}: `selector` does not match template `labels`'),
        (lambda s: s.update(replicas=-1), "spec.replicas", "Invalid value: -1: must be greater than or equal to 0"),
        (lambda s: s["template"]["spec"].update(restartPolicy="Never"), "spec.template.spec.restartPolicy",
         'Unsupported value: "Never": supported values: "Always"'),
        (lambda s: s.update(selector={}), "spec.selector", "Invalid value: {}: empty selector is invalid for deployment"),
    ],
    ids=["no-selector", "selector-mismatch", "negative-replicas", "restart-never", "empty-selector"],
)
def test_deployment_validation(mutate, field, message):
    obj = created("deployments", workload("Deployment"))
    mutate(obj["spec"])
    assert (field, message) in [(c.field, c.message) for c in STRATEGIES[("apps", "deployments")].validate(obj)]


def test_selector_is_immutable_and_spec_change_bumps_generation():
    strategy = STRATEGIES[("apps", "deployments")]
    old = created("deployments", workload("Deployment"))
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web2"}}
    assert [(c.field, c.message) for c in strategy.validate_update(new, old)] == [
        ("spec.selector", 'Invalid value: {"matchLabels":{"app":"web2"}}: field is immutable')]
    scaled = copy.deepcopy(old)
    scaled["spec"]["replicas"] = 3
    assert strategy.bumps_generation(scaled, old)
    relabeled = copy.deepcopy(old)
    relabeled["metadata"]["labels"] = {"x": "y"}
    assert not strategy.bumps_generation(relabeled, old)
    annotated = copy.deepcopy(old)
    annotated["metadata"]["annotations"] = {"x": "y"}
    assert strategy.bumps_generation(annotated, old)


def test_statefulset_forbids_changing_service_name():
    strategy = STRATEGIES[("apps", "statefulsets")]
    old = created("statefulsets", workload("StatefulSet", serviceName="web"))
    new = copy.deepcopy(old)
    new["spec"]["serviceName"] = "other"
    [cause] = strategy.validate_update(new, old)
    assert cause.field == "spec" and cause.message.startswith("Forbidden: updates to statefulset spec")


def test_replication_controller_defaults_selector_and_labels_from_template():
    rc = STRATEGIES[("", "replicationcontrollers")]
    obj = {"kind": "ReplicationController", "metadata": {"name": "rc"},
           "spec": {"template": {"metadata": {"labels": {"app": "x"}},
                                 "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    rc.prepare_for_create(obj)
    rc.default(obj)
    assert obj["spec"]["selector"] == {"app": "x"}
    assert obj["metadata"]["labels"] == {"app": "x"}
    assert obj["spec"]["replicas"] == 1
    assert obj["status"] == {"replicas": 0}
    assert rc.validate(obj) == []


@pytest.mark.parametrize("plural, keeps", [
    pytest.param("deployments", True, id="deployment-writes-annotations"),
    pytest.param("replicasets", False, id="replicaset-keeps-old-metadata"),
])
def test_a_status_write_changes_annotations_only_for_deployments(plural, keeps):
    status_strategy = STRATEGIES[("apps", plural)].subresource_strategies()["status"]
    old = workload("X")
    old["metadata"]["labels"] = {"app": "web"}
    new = copy.deepcopy(old)
    new["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "2"}
    new["metadata"]["labels"] = {"changed": "yes"}
    new["status"] = {"replicas": 1}
    status_strategy.prepare_for_update(new, old)
    assert new["metadata"].get("annotations") == (
        {"deployment.kubernetes.io/revision": "2"} if keeps else None)
    assert new["metadata"]["labels"] == {"app": "web"}  # labels never change by status
