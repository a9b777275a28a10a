from kubelite.apiserver.registry.strategies.scale import apply_scale, scale_of, validate_scale


def test_scale_of_deployment_uses_selector_string():
    deploy = {"kind": "Deployment", "metadata": {"name": "web", "namespace": "ns", "uid": "u1",
                                                  "resourceVersion": "7", "labels": {"a": "b"}},
              "spec": {"replicas": 3, "selector": {
                  "matchLabels": {"tier": "fe", "app": "web"},
                  "matchExpressions": [{"key": "env", "operator": "In", "values": ["prod", "dev"]}]}},
              "status": {"replicas": 2}}
    assert scale_of(deploy) == {
        "kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": "web", "namespace": "ns", "uid": "u1", "resourceVersion": "7"},
        "spec": {"replicas": 3},
        "status": {"replicas": 2, "selector": "app=web,env in (dev,prod),tier=fe"},
    }


def test_scale_of_replication_controller_uses_map_selector():
    rc = {"kind": "ReplicationController", "metadata": {"name": "rc"},
          "spec": {"replicas": 1, "selector": {"b": "2", "a": "1"}}}
    assert scale_of(rc)["status"] == {"replicas": 0, "selector": "a=1,b=2"}


def test_apply_scale_and_validate():
    obj = {"spec": {"replicas": 1}}
    apply_scale(obj, {"spec": {"replicas": 5}})
    assert obj["spec"]["replicas"] == 5
    [cause] = validate_scale({"spec": {"replicas": -1}})
    assert (cause.field, cause.message) == ("spec.replicas", "Invalid value: -1: must be greater than or equal to 0")
