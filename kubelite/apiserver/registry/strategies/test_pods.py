import copy

import pytest

from kubelite.apiserver.registry.strategies import STRATEGIES
from kubelite.api.qos import qos_class

POD = STRATEGIES[("", "pods")]


def minimal_pod(**container):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx", **container}]}}


def created(pod):
    POD.prepare_for_create(pod)
    POD.default(pod)
    return pod


def test_minimal_pod_gets_what_a_real_cluster_shows():
    pod = created(minimal_pod())
    assert pod["metadata"]["generation"] == 1
    assert pod["spec"] == {
        "containers": [{
            "name": "c", "image": "nginx", "imagePullPolicy": "Always",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File", "resources": {},
        }],
        "dnsPolicy": "ClusterFirst", "enableServiceLinks": True,
        "restartPolicy": "Always", "schedulerName": "default-scheduler",
        "securityContext": {}, "serviceAccount": "default", "serviceAccountName": "default",
        "terminationGracePeriodSeconds": 30,
    }  # the tolerations come from DefaultTolerationSeconds admission
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}
    assert POD.validate(pod) == []


@pytest.mark.parametrize(
    ("image", "policy"),
    [("nginx", "Always"), ("nginx:latest", "Always"), ("nginx:1.27", "IfNotPresent"),
     ("localhost:5000/app", "Always"), ("localhost:5000/app:v1", "IfNotPresent"),
     ("nginx@sha256:" + "a" * 64, "IfNotPresent")],
    ids=["no-tag", "latest", "tag", "registry-port-no-tag", "registry-port-tag", "digest"],
)
def test_pull_policy_follows_the_tag(image, policy):
    pod = created(minimal_pod(image=image))
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_probe_port_and_volume_defaults():
    pod = minimal_pod(
        ports=[{"containerPort": 80}],
        livenessProbe={"httpGet": {"port": 80}},
        volumeMounts=[{"name": "cfg", "mountPath": "/cfg"}],
    )
    pod["spec"]["volumes"] = [{"name": "cfg", "configMap": {"name": "x"}}, {"name": "scratch"}]
    created(pod)
    container = pod["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert container["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
        "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    assert pod["spec"]["volumes"] == [{"name": "cfg", "configMap": {"name": "x", "defaultMode": 420}},
                                      {"name": "scratch", "emptyDir": {}}]


def test_existing_wildcard_toleration_suppresses_defaults():
    pod = minimal_pod()
    pod["spec"]["tolerations"] = [{"operator": "Exists"}]
    assert created(pod)["spec"]["tolerations"] == [{"operator": "Exists"}]


@pytest.mark.parametrize(
    ("resources", "qos"),
    [({}, "BestEffort"),
     ({"limits": {"cpu": "1", "memory": "1Gi"}}, "Guaranteed"),
     ({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "0.5", "memory": "1024Mi"}}, "Guaranteed"),
     ({"requests": {"cpu": "100m"}}, "Burstable"),
     ({"limits": {"cpu": "1"}}, "Burstable")],
    ids=["none", "limits-only", "equal-different-units", "requests-only", "cpu-limit-only"],
)
def test_qos_class(resources, qos):
    pod = created(minimal_pod(resources=copy.deepcopy(resources)))
    assert pod["status"]["qosClass"] == qos
    assert qos_class(pod) == qos


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda s: s.update(containers=[]), "spec.containers", "Required value"),
        (lambda s: s["containers"][0].update(name=""), "spec.containers[0].name", "Required value"),
        (lambda s: s["containers"][0].update(image=""), "spec.containers[0].image", "Required value"),
        (lambda s: s["containers"].append(dict(s["containers"][0])), "spec.containers[1].name",
         'Duplicate value: "c"'),
        (lambda s: s.update(restartPolicy="Sometimes"), "spec.restartPolicy",
         'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"'),
        (lambda s: s["containers"][0].update(ports=[{"containerPort": 70000}]),
         "spec.containers[0].ports[0].containerPort",
         "Invalid value: 70000: must be between 1 and 65535, inclusive"),
        (lambda s: s["containers"][0].update(volumeMounts=[{"name": "v", "mountPath": "/v"}]),
         "spec.containers[0].volumeMounts[0].name", 'Not found: "v"'),
    ],
    ids=["no-containers", "no-name", "no-image", "duplicate-name", "restart-policy", "port-range",
         "mount-without-volume"],
)
def test_validation_causes(mutate, field, message):
    pod = created(minimal_pod())
    mutate(pod["spec"])
    causes = POD.validate(pod)
    assert (field, message) in [(c.field, c.message) for c in causes]


def test_bad_container_name_is_a_dns_label_error():
    pod = created(minimal_pod(name="Web_1"))
    [cause] = POD.validate(pod)
    assert cause.field == "spec.containers[0].name"
    assert cause.message.startswith('Invalid value: "Web_1": a lowercase RFC 1123 label')


def _updated(old, mutate):
    new = copy.deepcopy(old)
    mutate(new["spec"])
    POD.prepare_for_update(new, old)
    POD.default(new)
    return new


def test_image_change_is_allowed_and_bumps_generation():
    old = created(minimal_pod())
    new = _updated(old, lambda s: s["containers"][0].update(image="nginx:2"))
    assert POD.validate_update(new, old) == []
    assert POD.bumps_generation(new, old)


def test_adding_toleration_is_allowed_but_removing_is_not():
    old = created(minimal_pod())
    old["spec"]["tolerations"] = [{"key": "y", "operator": "Exists"}]
    add = _updated(old, lambda s: s["tolerations"].append({"key": "x", "operator": "Exists"}))
    assert POD.validate_update(add, old) == []
    remove = _updated(old, lambda s: s["tolerations"].pop())
    assert [c.message for c in POD.validate_update(remove, old)] == [
        "Forbidden: existing toleration can not be modified except its tolerationSeconds"]


def test_other_spec_change_is_forbidden_with_upstream_message():
    old = created(minimal_pod())
    new = _updated(old, lambda s: s.update(nodeName="n1"))
    [cause] = POD.validate_update(new, old)
    assert cause.field == "spec"
    assert cause.message.startswith(
        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
        "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be "
        "set to 1 if it was previously negative)\n")
    assert '"nodeName": "n1"' in cause.message


def test_adding_a_container_is_forbidden():
    old = created(minimal_pod())
    new = _updated(old, lambda s: s["containers"].append({"name": "d", "image": "x"}))
    [cause] = POD.validate_update(new, old)
    assert (cause.field, cause.message) == ("spec.containers", "Forbidden: pod updates may not add or remove containers")


def test_active_deadline_may_only_shrink():
    old = created(minimal_pod())
    old["spec"]["activeDeadlineSeconds"] = 10
    new = _updated(old, lambda s: s.update(activeDeadlineSeconds=20))
    assert [c.message for c in POD.validate_update(new, old)] == [
        "Invalid value: 20: must be less than or equal to previous value"]


def test_update_keeps_status_and_status_update_keeps_spec():
    old = created(minimal_pod())
    new = _updated(old, lambda s: None)
    new_status = copy.deepcopy(old)
    new_status["status"] = {"phase": "Running"}
    new_status["spec"]["nodeName"] = "sneaky"
    POD.subresource_strategies()["status"].prepare_for_update(new_status, old)
    assert new["status"] == old["status"]
    assert new_status["spec"] == old["spec"]
    assert new_status["status"] == {"phase": "Running", "qosClass": "BestEffort"}


def test_selectable_fields():
    pod = created(minimal_pod())
    pod["spec"]["nodeName"] = "n1"
    pod["status"]["podIPs"] = [{"ip": "10.0.0.5"}]
    fields = POD.selectable_fields(pod)
    assert fields == {
        "spec.nodeName": "n1", "spec.restartPolicy": "Always", "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "default", "spec.hostNetwork": "false", "status.phase": "Pending",
        "status.podIP": "10.0.0.5", "status.nominatedNodeName": "",
    }


def test_a_gated_pod_is_created_with_the_scheduling_gated_condition():
    pod = minimal_pod()
    pod["spec"]["schedulingGates"] = [{"name": "example.com/quota"}]
    pod["status"] = {"conditions": [{"type": "Ready", "status": "True"}]}  # reset on create
    [condition] = created(pod)["status"]["conditions"]
    assert {k: v for k, v in condition.items() if k != "lastTransitionTime"} == {
        "type": "PodScheduled", "status": "False", "lastProbeTime": None,
        "reason": "SchedulingGated",
        "message": "Scheduling is blocked due to non-empty scheduling gates"}
    assert "conditions" not in created(minimal_pod())["status"]


def test_match_label_keys_join_the_selectors_at_creation():
    pod = minimal_pod()
    pod["metadata"]["labels"] = {"app": "web", "pod-template-hash": "abc", "tenant": "t1"}
    term = {"topologyKey": "kubernetes.io/hostname", "labelSelector": {"matchLabels": {"app": "web"}},
            "matchLabelKeys": ["pod-template-hash", "absent"], "mismatchLabelKeys": ["tenant"]}
    pod["spec"]["affinity"] = {"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [copy.deepcopy(term)],
        "preferredDuringSchedulingIgnoredDuringExecution": [
            {"weight": 5, "podAffinityTerm": {**copy.deepcopy(term), "labelSelector": None}}]}}
    pod["spec"]["topologySpreadConstraints"] = [{
        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "web"}},
        "matchLabelKeys": ["pod-template-hash"]}]
    spec = created(pod)["spec"]
    [required] = spec["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required["labelSelector"] == {"matchLabels": {"app": "web"}, "matchExpressions": [
        {"key": "pod-template-hash", "operator": "In", "values": ["abc"]},
        {"key": "tenant", "operator": "NotIn", "values": ["t1"]}]}
    [preferred] = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"]
    assert preferred["podAffinityTerm"]["labelSelector"] is None  # matches nothing, stays so
    assert spec["topologySpreadConstraints"][0]["labelSelector"]["matchExpressions"] == [
        {"key": "pod-template-hash", "operator": "In", "values": ["abc"]}]
