"""StatefulSet identity, storage and revision rules, against upstream's outcomes
(stateful_set_utils_test.go, history_test.go)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.statefulset_util import (
    at_current_revision, claim_name, fnv32, max_unavailable, new_claim, new_pod, new_revision, parent_and_ordinal,
    partition, revision_hash, revision_name, template_of_revision)

Obj = dict[str, Any]


def a_set(**spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "web", "namespace": "ns", "uid": "u1"},
            "spec": {"replicas": 4, "serviceName": "nginx",
                     "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}},
                     **spec}}


@pytest.mark.parametrize("name, parent, ordinal", [
    pytest.param("web-0", "web", 0, id="first"),
    pytest.param("web-12", "web", 12, id="two-digits"),
    pytest.param("my-web-3", "my-web", 3, id="dashes-in-the-set-name"),
    pytest.param("web", "", -1, id="no-ordinal"),
    pytest.param("web-", "", -1, id="empty-ordinal"),
    pytest.param("web-x", "", -1, id="not-a-number"),
])
def test_pod_names_parse_into_set_and_ordinal(name: str, parent: str, ordinal: int) -> None:
    assert parent_and_ordinal(name) == (parent, ordinal)


@pytest.mark.parametrize("data, expected", [
    pytest.param(b"", 0x811C9DC5, id="offset-basis"),
    pytest.param(b"a", 0x050C5D7E, id="one-byte"),
    pytest.param(b"foobar", 0x31F0B262, id="foobar"),
])
def test_fnv32_is_fnv1_not_1a(data: bytes, expected: int) -> None:
    assert fnv32(data) == expected  # Go's hash/fnv New32 test vectors


def test_a_revision_is_named_by_the_hash_of_its_template_and_collision_count() -> None:
    set_ = a_set()
    revision = new_revision(set_, 3, 0)
    name = revision["metadata"]["name"]
    assert name == revision_name("web", revision_hash(revision["data"], 0))
    assert name.startswith("web-") and revision["revision"] == 3
    assert revision["metadata"]["labels"] == {"app": "web", "controller-revision-hash": name}
    assert revision["data"]["spec"]["template"]["$patch"] == "replace"
    assert template_of_revision(revision) == set_["spec"]["template"]
    assert new_revision(set_, 3, 1)["metadata"]["name"] != name  # a collision moves it
    changed = a_set(template={"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx:2"}]}})
    assert new_revision(changed, 3, 0)["metadata"]["name"] != name
    assert revision_name("x" * 300, "abc") == "x" * 223 + "-abc"


def test_a_pod_has_its_ordinal_identity_and_its_claims() -> None:
    template = {"metadata": {"name": "www"}, "spec": {"accessModes": ["ReadWriteOnce"]}}
    set_ = a_set(volumeClaimTemplates=[template])
    revision = new_revision(set_, 1, None)
    pod = new_pod(set_, revision, 2)
    assert pod["metadata"]["name"] == "web-2"
    assert pod["metadata"]["labels"] == {
        "app": "web", "statefulset.kubernetes.io/pod-name": "web-2",
        "apps.kubernetes.io/pod-index": "2",
        "controller-revision-hash": revision["metadata"]["name"]}
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("web-2", "nginx")
    assert pod["spec"]["volumes"] == [
        {"name": "www", "persistentVolumeClaim": {"claimName": "www-web-2"}}]
    ref = pod["metadata"]["ownerReferences"][0]
    assert (ref["kind"], ref["name"], ref["controller"]) == ("StatefulSet", "web", True)
    assert claim_name(template, set_, 2) == "www-web-2"


@pytest.mark.parametrize("policy, owned", [
    pytest.param(None, False, id="default-retain"),
    pytest.param({"whenDeleted": "Retain"}, False, id="retain"),
    pytest.param({"whenDeleted": "Delete"}, True, id="delete-owned-by-the-set"),
])
def test_when_deleted_delete_makes_the_set_own_its_claims(policy: Obj | None,
                                                          owned: bool) -> None:
    set_ = a_set(**({"persistentVolumeClaimRetentionPolicy": policy} if policy else {}))
    claim = new_claim(set_, {"metadata": {"name": "www"}, "spec": {}}, 0)
    assert claim["metadata"]["labels"] == {"app": "web"}
    refs = claim["metadata"].get("ownerReferences") or []
    assert [(r["name"], r["controller"]) for r in refs] == ([("web", False)] if owned else [])


@pytest.mark.parametrize("strategy, expected_partition, expected_unavailable", [
    pytest.param(None, 0, 1, id="defaults"),
    pytest.param({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}, 2, 1,
                 id="partition"),
    pytest.param({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 2}}, 0, 2,
                 id="max-unavailable"),
    pytest.param({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "50%"}}, 0, 2,
                 id="percent-of-four"),
    pytest.param({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}}, 0, 1,
                 id="percent-rounds-down-to-at-least-one"),
    pytest.param({"type": "OnDelete"}, 0, 1, id="on-delete"),
])
def test_rolling_update_parameters(strategy: Obj | None, expected_partition: int,
                                   expected_unavailable: int) -> None:
    set_ = a_set(**({"updateStrategy": strategy} if strategy else {}))
    assert (partition(set_), max_unavailable(set_)) == (expected_partition,
                                                         expected_unavailable)


@pytest.mark.parametrize("strategy, index, current_replicas, at_current", [
    pytest.param({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}, 1, 0, True,
                 id="below-the-partition"),
    pytest.param({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}, 2, 4, False,
                 id="at-the-partition"),
    pytest.param({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}, 0, 4, False,
                 id="no-partition-replaces-at-update"),
    pytest.param({"type": "RollingUpdate"}, 2, 3, True, id="no-rolling-update-below-current"),
    pytest.param({"type": "RollingUpdate"}, 3, 3, False, id="no-rolling-update-beyond"),
    pytest.param({"type": "OnDelete"}, 0, 4, False, id="on-delete-makes-update"),
])
def test_which_revision_a_missing_replica_gets(strategy: Obj, index: int,
                                               current_replicas: int, at_current: bool) -> None:
    assert at_current_revision(a_set(updateStrategy=strategy), index,
                               current_replicas) is at_current
