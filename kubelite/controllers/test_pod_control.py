"""The pod a template makes (upstream's controller_utils_test.go
TestCreatePodsWithGenerateName, GetPodFromTemplate)."""

from __future__ import annotations

from kubelite.controllers.pod_control import pod_from_template


def test_a_pod_from_a_template_is_owned_by_its_controller() -> None:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet",
             "metadata": {"name": "web", "namespace": "ns", "uid": "u1"}}
    template = {"metadata": {"labels": {"app": "web"}, "annotations": {"a": "1"},
                             "finalizers": ["f"], "name": "ignored"},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    pod = pod_from_template(template, owner)
    assert pod["metadata"] == {
        "generateName": "web-", "labels": {"app": "web"}, "annotations": {"a": "1"},
        "finalizers": ["f"],
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web",
                             "uid": "u1", "controller": True, "blockOwnerDeletion": True}]}
    pod["spec"]["containers"].append({})
    assert len(template["spec"]["containers"]) == 1  # a copy, not the template
