"""The ownerReferences a StatefulSet's retention policy asks of the claims of its
replicas in range and of a scaled-down replica under whenScaled=Delete (upstream's
isClaimOwnerUpToDate / updateClaimOwnerRefForSetAndPod)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.statefulset_ownership import claim_owner_refs, condemned_claim_refs

Obj = dict[str, Any]
SET_REF = {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "db", "uid": "s1",
           "controller": False, "blockOwnerDeletion": True}
POD_REF = {"apiVersion": "v1", "kind": "Pod", "name": "db-0", "uid": "p1",
           "controller": False, "blockOwnerDeletion": True}
OTHER_OWNER = {"apiVersion": "v1", "kind": "ConfigMap", "name": "keep", "uid": "c1"}
OTHER_CONTROLLER = {"apiVersion": "example.com/v1", "kind": "Backup", "name": "b", "uid": "b1",
                    "controller": True}
OLD_SET = {**SET_REF, "uid": "s0"}


def the_set(when_deleted: str | None) -> Obj:
    spec: Obj = {"replicas": 3}
    if when_deleted:
        spec["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": when_deleted}
    return {"metadata": {"name": "db", "namespace": "default", "uid": "s1"}, "spec": spec}


POD = {"metadata": {"name": "db-0", "namespace": "default", "uid": "p1"}}


def claim(*refs: Obj) -> Obj:
    return {"metadata": {"name": "data-db-0", "ownerReferences": list(refs)}}


@pytest.mark.parametrize("when_deleted, refs, expected", [
    pytest.param("Delete", [], [SET_REF], id="delete-adds-the-set"),
    pytest.param("Delete", [SET_REF], None, id="delete-already-owned"),
    pytest.param("Delete", [OTHER_OWNER], [OTHER_OWNER, SET_REF], id="delete-keeps-others"),
    pytest.param("Retain", [SET_REF], [], id="retain-removes-the-set"),
    pytest.param(None, [SET_REF, OTHER_OWNER], [OTHER_OWNER], id="default-is-retain"),
    pytest.param("Retain", [], None, id="retain-nothing-to-do"),
    pytest.param("Delete", [SET_REF, POD_REF], [SET_REF], id="pod-in-range-gives-up-its-claim"),
    pytest.param("Delete", [OLD_SET], None, id="an-earlier-set-of-the-name-is-left-alone"),
    pytest.param("Delete", [{**POD_REF, "uid": "p0"}], None, id="an-earlier-pod-left-alone"),
    pytest.param("Delete", [OTHER_CONTROLLER], None, id="another-controller-not-joined"),
    pytest.param("Delete", [OTHER_CONTROLLER, SET_REF], [OTHER_CONTROLLER],
                 id="another-controller-ours-scrubbed"),
])
def test_claim_ownership_follows_when_deleted(when_deleted: str | None, refs: list[Obj],
                                              expected: list[Obj] | None) -> None:
    assert claim_owner_refs(the_set(when_deleted), POD, claim(*refs)) == expected


@pytest.mark.parametrize("refs, expected", [
    pytest.param([], [POD_REF], id="retained-by-nobody-given-to-the-pod"),
    pytest.param([SET_REF], [POD_REF], id="set-owned-becomes-the-pods-alone"),
    pytest.param([POD_REF], None, id="already-the-pods"),
    pytest.param([OTHER_OWNER, SET_REF], [OTHER_OWNER, POD_REF], id="others-kept"),
    pytest.param([OLD_SET], None, id="an-earlier-set-of-the-name-is-left-alone"),
])
def test_a_scaled_down_replicas_claim_is_its_pods_alone(refs: list[Obj],
                                                         expected: list[Obj] | None) -> None:
    pod = {**POD, "kind": "Pod", "apiVersion": "v1"}
    assert condemned_claim_refs(the_set("Delete"), pod, claim(*refs)) == expected
