"""A registry with its watch cache, holding the world upstream's node_authorizer_test.go
builds: pods bound to node0 and node1 (and one unbound), the Secrets, ConfigMaps,
claims, volumes and accounts they use, and volume attachments."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions

Obj = dict[str, Any]
NS = "ns0"


def pod(name: str, node: str, *, account: str = "", secrets: tuple[str, ...] = (),
        configmaps: tuple[str, ...] = (), claims: tuple[str, ...] = (),
        volumes: tuple[Obj, ...] = (), env: tuple[Obj, ...] = ()) -> Obj:
    spec: Obj = {
        "containers": [{"name": "c", "image": "busybox", "env": list(env)}],
        "volumes": [*({"name": f"s{i}", "secret": {"secretName": s}}
                      for i, s in enumerate(secrets)),
                    *({"name": f"c{i}", "configMap": {"name": c}}
                      for i, c in enumerate(configmaps)),
                    *({"name": f"p{i}", "persistentVolumeClaim": {"claimName": c}}
                      for i, c in enumerate(claims)),
                    *volumes]}
    if node:
        spec["nodeName"] = node
    if account:
        spec["serviceAccountName"] = account
    return {"metadata": {"name": name, "namespace": NS}, "spec": spec}


def pv(name: str, claim: str | None, secret: str) -> Obj:
    spec: Obj = {"capacity": {"storage": "1Gi"}, "accessModes": ["ReadWriteOnce"],
                 "csi": {"driver": "csi.example.com", "volumeHandle": name,
                         "nodePublishSecretRef": {"name": secret, "namespace": NS}}}
    if claim is not None:
        spec["claimRef"] = {"namespace": NS, "name": claim}
    return {"metadata": {"name": name}, "spec": spec}


def attachment(name: str, node: str) -> Obj:
    return {"metadata": {"name": name}, "spec": {
        "attacher": "csi.example.com", "nodeName": node,
        "source": {"persistentVolumeName": "pv0-pod0-node0"}}}


WORLD: list[tuple[str, str, Obj]] = [
    ("", "pods", pod("pod0-node0", "node0", account="svcacct0-node0",
                     secrets=("secret0-pod0-node0", "secret0-shared"),
                     configmaps=("configmap0-pod0-node0",), claims=("pvc0-pod0-node0",),
                     env=({"name": "E", "valueFrom": {"secretKeyRef": {
                         "name": "env-secret-node0", "key": "k"}}},),
                     volumes=({"name": "eph", "ephemeral": {"volumeClaimTemplate": {
                         "spec": {"accessModes": ["ReadWriteOnce"],
                                  "resources": {"requests": {"storage": "1Gi"}}}}}},
                              {"name": "proj", "projected": {"sources": [
                                  {"configMap": {"name": "kube-root-ca.crt"}}]}}))),
    ("", "pods", pod("pod0-node1", "node1", account="svcacct0-node1",
                     secrets=("secret0-pod0-node1", "secret0-shared"),
                     configmaps=("configmap0-pod0-node1",), claims=("pvc0-pod0-node1",))),
    ("", "pods", pod("pending", "", secrets=("secret-pending",))),
    ("", "persistentvolumes", pv("pv0-pod0-node0", "pvc0-pod0-node0",
                                 "secret-pv0-pod0-node0-ns0")),
    ("", "persistentvolumes", pv("pv0-pod0-node1", "pvc0-pod0-node1",
                                 "secret-pv0-pod0-node1-ns0")),
    ("", "persistentvolumes", pv("pv-unbound", None, "secret-pv-unbound")),
    ("storage.k8s.io", "volumeattachments", attachment("attachment0-node0", "node0")),
    ("storage.k8s.io", "volumeattachments", attachment("attachment0-node1", "node1")),
]


async def put(registry: Registry, group: str, plural: str, obj: Obj) -> Obj:
    store = registry.store_for(group, plural)
    namespace = obj["metadata"].get("namespace", "")
    created = await store.create(namespace, copy.deepcopy(obj), WriteOptions())
    await store.sync_cache()
    return created


@pytest.fixture
async def world(registry: Registry) -> Registry:
    await put(registry, "", "namespaces", {"metadata": {"name": NS}})
    for group, plural, obj in WORLD:
        await put(registry, group, plural, obj)
    return registry
