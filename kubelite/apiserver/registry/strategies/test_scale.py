import pytest

from kubelite.apiserver.registry.strategies.scale import replicas_from, scale_of, set_replicas
from kubelite.machinery import errors

CRD_PATHS = {"specReplicasPath": ".spec.size", "statusReplicasPath": ".status.ready",
             "labelSelectorPath": ".status.selector"}


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


@pytest.mark.parametrize(
    ("obj", "want_spec", "want_status"),
    [
        ({"spec": {"size": 4}, "status": {"ready": 2, "selector": "app=db"}},
         {"replicas": 4}, {"replicas": 2, "selector": "app=db"}),
        ({"spec": {}, "status": {}}, {"replicas": 0}, {"replicas": 0}),
        ({"spec": {"size": 1}, "status": {"selector": {"matchLabels": {"a": "b"}}}},
         {"replicas": 1}, {"replicas": 0}),
    ],
    ids=["all-paths", "nothing-set", "selector-not-a-string"],
)
def test_scale_of_custom_resource_reads_the_crd_paths(obj, want_spec, want_status):
    scale = scale_of({"metadata": {"name": "c"}, **obj}, CRD_PATHS)
    assert (scale["spec"], scale["status"]) == (want_spec, want_status)


@pytest.mark.parametrize(
    ("paths", "want"),
    [(None, {"spec": {"replicas": 5}}),
     (CRD_PATHS, {"spec": {"size": 5}}),
     ({"specReplicasPath": ".spec.scaling.count"}, {"spec": {"scaling": {"count": 5}}})],
    ids=["built-in", "crd-path", "crd-nested-missing-parents"],
)
def test_set_replicas_writes_at_the_spec_path(paths, want):
    obj: dict = {"spec": {}}
    set_replicas(obj, 5, paths)
    assert obj == want


def test_replicas_from_returns_count_and_precondition():
    assert replicas_from({"metadata": {"resourceVersion": "9"}, "spec": {"replicas": 2}}, "w") == (2, "9")
    assert replicas_from({"spec": {}}, "w") == (0, "")


@pytest.mark.parametrize(
    ("replicas", "shown"),
    [(-1, "-1"), ("3", '"3"'), (True, "true"), (1.5, "1.5")],
    ids=["negative", "string", "bool", "float"],
)
def test_replicas_from_rejects_what_is_not_a_count(replicas, shown):
    with pytest.raises(errors.Invalid) as caught:
        replicas_from({"spec": {"replicas": replicas}}, "w")
    [cause] = caught.value.causes
    assert (cause.field, cause.message) == (
        "spec.replicas", f"Invalid value: {shown}: must be greater than or equal to 0")


def test_replicas_from_needs_an_object():
    with pytest.raises(errors.BadRequest):
        replicas_from(["not", "a", "scale"], "w")
