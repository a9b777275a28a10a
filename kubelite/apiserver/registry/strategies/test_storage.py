import copy

from kubelite.apiserver.registry.strategies import STRATEGIES

PV = STRATEGIES[("", "persistentvolumes")]
PVC = STRATEGIES[("", "persistentvolumeclaims")]
SC = STRATEGIES[("storage.k8s.io", "storageclasses")]


def test_pv_defaults_and_pending_status():
    pv = {"metadata": {"name": "pv1"}, "spec": {"capacity": {"storage": "1Gi"},
                                                "accessModes": ["ReadWriteOnce"], "hostPath": {"path": "/d"}}}
    PV.prepare_for_create(pv)
    PV.default(pv)
    assert pv["spec"]["persistentVolumeReclaimPolicy"] == "Retain"
    assert pv["spec"]["volumeMode"] == "Filesystem"
    assert pv["status"]["phase"] == "Pending"
    assert "lastPhaseTransitionTime" in pv["status"]
    assert PV.validate(pv) == []


def test_pv_needs_a_source():
    pv = {"spec": {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"]}}
    PV.default(pv)
    assert [(c.field, c.message) for c in PV.validate(pv)] == [("spec", "Required value: must specify a volume type")]


def test_pvc_defaults_validation_and_immutability():
    pvc = {"metadata": {"name": "c"}, "spec": {"accessModes": ["ReadWriteOnce"],
                                               "resources": {"requests": {"storage": "1Gi"}}}}
    PVC.prepare_for_create(pvc)
    PVC.default(pvc)
    assert pvc["spec"]["volumeMode"] == "Filesystem"
    assert pvc["status"] == {"phase": "Pending"}
    assert PVC.validate(pvc) == []
    grown = copy.deepcopy(pvc)
    grown["spec"]["resources"]["requests"]["storage"] = "2Gi"
    assert PVC.validate_update(grown, pvc) == []
    changed = copy.deepcopy(pvc)
    changed["spec"]["accessModes"] = ["ReadWriteMany"]
    [cause] = PVC.validate_update(changed, pvc)
    assert cause.field == "spec" and cause.message.startswith("Forbidden: spec is immutable after creation")


def test_pvc_requires_access_modes_and_storage():
    causes = PVC.validate({"spec": {}})
    assert [(c.field, c.message) for c in causes] == [
        ("spec.accessModes", "Required value: at least 1 access mode is required"),
        ("spec.resources[storage]", "Required value")]


def test_storage_class_defaults_and_frozen_provisioner():
    sc = {"metadata": {"name": "fast"}, "provisioner": "kubelite.io/local"}
    SC.default(sc)
    assert (sc["reclaimPolicy"], sc["volumeBindingMode"]) == ("Delete", "Immediate")
    new = dict(sc, provisioner="other")
    assert [c.field for c in SC.validate_update(new, sc)] == ["provisioner"]


def test_a_pv_phase_change_stamps_the_transition_time():
    status = PV.subresource_strategies()["status"]
    old = {"metadata": {"name": "pv1"}, "spec": {},
           "status": {"phase": "Available", "lastPhaseTransitionTime": "2020-01-01T00:00:00Z"}}
    bound = copy.deepcopy(old)
    bound["status"]["phase"] = "Bound"
    status.prepare_for_update(bound, old)
    assert bound["status"]["lastPhaseTransitionTime"] > "2020-01-01T00:00:00Z"
    same = copy.deepcopy(old)
    del same["status"]["lastPhaseTransitionTime"]
    status.prepare_for_update(same, old)
    assert same["status"]["lastPhaseTransitionTime"] == "2020-01-01T00:00:00Z"
