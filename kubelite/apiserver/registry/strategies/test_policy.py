from kubelite.apiserver.registry.strategies import STRATEGIES

PDB = STRATEGIES[("policy", "poddisruptionbudgets")]
PC = STRATEGIES[("scheduling.k8s.io", "priorityclasses")]
HPA = STRATEGIES[("autoscaling", "horizontalpodautoscalers")]


def test_pdb_status_and_both_bounds_invalid():
    pdb = {"metadata": {"name": "p"}, "spec": {"minAvailable": 1, "maxUnavailable": "10%"}}
    PDB.prepare_for_create(pdb)
    assert pdb["status"] == {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0, "expectedPods": 0}
    assert [c.message.rsplit(": ", 1)[-1] for c in PDB.validate(pdb)] == [
        "minAvailable and maxUnavailable cannot be both set"]


def test_priority_class_rules():
    pc = {"metadata": {"name": "high"}, "value": 2_000_000_000}
    PC.default(pc)
    assert pc["preemptionPolicy"] == "PreemptLowerPriority"
    assert [(c.field, c.message) for c in PC.validate(pc)] == [
        ("value", "Forbidden: maximum allowed value of a user defined priority is 1000000000")]
    changed = dict(pc, value=5)
    assert [c.field for c in PC.validate_update(changed, pc)] == ["value"]


def test_hpa_defaults_and_bounds():
    hpa = {"spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
                    "behavior": {}}}
    HPA.prepare_for_create(hpa)
    HPA.default(hpa)
    assert hpa["spec"]["minReplicas"] == 1
    assert hpa["spec"]["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 80}
    assert hpa["spec"]["behavior"]["scaleUp"]["policies"][0] == {"type": "Pods", "value": 4, "periodSeconds": 15}
    assert hpa["status"] == {"desiredReplicas": 0}
    assert HPA.validate(hpa) == []
    hpa["spec"]["minReplicas"] = 5
    assert [(c.field, c.message) for c in HPA.validate(hpa)] == [
        ("spec.maxReplicas", "Invalid value: 3: must be greater than or equal to `minReplicas`")]
