"""What a pod references, as upstream's podutil visitors and resourceclaim.Name find it."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.pod_references import (
    pod_claim_names,
    pod_configmap_names,
    pod_resource_claim_names,
    pod_secret_names,
)

Obj = dict[str, Any]

CONTAINER: Obj = {
    "name": "c",
    "env": [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "env-secret", "key": "k"}}},
            {"name": "B", "valueFrom": {"configMapKeyRef": {"name": "env-cm", "key": "k"}}},
            {"name": "C", "value": "plain"}],
    "envFrom": [{"secretRef": {"name": "from-secret"}}, {"configMapRef": {"name": "from-cm"}}],
}
SPEC: Obj = {
    "imagePullSecrets": [{"name": "pull"}],
    "initContainers": [{"name": "i", "envFrom": [{"secretRef": {"name": "init-secret"}}]}],
    "containers": [CONTAINER],
    "ephemeralContainers": [{"name": "e", "envFrom": [{"configMapRef": {"name": "eph-cm"}}]}],
    "volumes": [
        {"name": "s", "secret": {"secretName": "vol-secret"}},
        {"name": "m", "configMap": {"name": "vol-cm"}},
        {"name": "p", "projected": {"sources": [{"secret": {"name": "proj-secret"}},
                                                {"configMap": {"name": "proj-cm"}},
                                                {"serviceAccountToken": {"path": "t"}}]}},
        {"name": "csi", "csi": {"driver": "d", "nodePublishSecretRef": {"name": "csi-secret"}}},
        {"name": "ceph", "cephfs": {"monitors": ["m"], "secretRef": {"name": "ceph-secret"}}},
        {"name": "claim", "persistentVolumeClaim": {"claimName": "data"}},
        {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
    ],
}


def test_every_secret_a_pod_names_is_found() -> None:
    assert sorted(pod_secret_names(SPEC)) == sorted([
        "pull", "init-secret", "from-secret", "env-secret", "vol-secret", "proj-secret",
        "csi-secret", "ceph-secret"])


def test_every_configmap_a_pod_names_is_found() -> None:
    assert sorted(pod_configmap_names(SPEC)) == sorted([
        "from-cm", "env-cm", "eph-cm", "vol-cm", "proj-cm"])


def test_claims_are_named_and_ephemeral_ones_are_pod_dash_volume() -> None:
    pod = {"metadata": {"name": "web"}, "spec": SPEC}
    assert list(pod_claim_names(pod)) == ["data", "web-scratch"]


@pytest.mark.parametrize(("claim", "statuses", "names"), [
    ({"name": "a", "resourceClaimName": "shared"}, [], ["shared"]),
    ({"name": "a", "resourceClaimTemplateName": "t"},
     [{"name": "a", "resourceClaimName": "web-a-x7k2p"}], ["web-a-x7k2p"]),
    ({"name": "a", "resourceClaimTemplateName": "t"}, [], []),
    ({"name": "a", "resourceClaimTemplateName": "t"}, [{"name": "a"}], []),
    ({"name": "a"}, [], []),
], ids=["named", "from-template", "template-not-yet-made", "template-needs-none", "neither"])
def test_resource_claim_names_as_the_kubelet_resolves_them(
        claim: Obj, statuses: list[Obj], names: list[str]) -> None:
    pod = {"spec": {"resourceClaims": [claim]}, "status": {"resourceClaimStatuses": statuses}}
    assert list(pod_resource_claim_names(pod)) == names


@pytest.mark.parametrize("spec", [
    {"volumes": "x"}, {"containers": [None, 3]}, {"volumes": [{"secret": "x"}]},
    {"containers": [{"env": [{"valueFrom": None}]}]},
], ids=["volumes-not-a-list", "containers-not-objects", "secret-not-an-object", "null-from"])
def test_malformed_pods_yield_fewer_names_never_an_error(spec: Obj) -> None:
    assert list(pod_secret_names(spec)) == []
    assert list(pod_configmap_names(spec)) == []
