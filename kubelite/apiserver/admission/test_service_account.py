"""ServiceAccount admission: upstream's admission_test.go outcomes as tables, against
accounts stored in a real registry and read from its watch cache."""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.service_account import (
    TOKEN_MOUNT_PATH, ServiceAccount, token_volume_source)
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.watchcache import Cache
from kubelite.machinery import errors
from kubelite.storage.factory import open_backend

Obj = dict[str, Any]
NS = "team"
VOLUME = "kube-api-access-x2b4z"
MOUNT = {"name": VOLUME, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}
TOKEN_VOLUME = {"name": VOLUME, "projected": token_volume_source()}
MIRROR = {"kubernetes.io/config.mirror": "abc"}
ENFORCE = {"kubernetes.io/enforce-mountable-secrets": "true"}


def container(name: str = "c", **extra: Any) -> Obj:
    return {"name": name, "image": "nginx", **extra}


def account(name: str = "default", annotations: Obj | None = None, **extra: Any) -> Obj:
    meta: Obj = {"name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"metadata": meta, **extra}


async def store(registry: Registry, *accounts: Obj) -> None:
    await registry.store_for("", "namespaces").create(
        "", {"metadata": {"name": NS}}, WriteOptions())
    for obj in accounts:
        await registry.store_for("", "serviceaccounts").create(NS, copy.deepcopy(obj),
                                                               WriteOptions())


def plugin(registry: Registry, wait: float = 0.0) -> ServiceAccount:
    return ServiceAccount(stores=registry, cache=registry.cache, default_wait=wait,
                          suffix=lambda: "x2b4z")


def attributes(registry: Registry, spec: Obj, annotations: Obj | None = None,
               operation: Operation = Operation.CREATE, subresource: str = "") -> Attributes:
    meta: Obj = {"name": "p", "namespace": NS}
    if annotations:
        meta["annotations"] = annotations
    pod = {"metadata": meta, "spec": spec}
    resource = registry.store_for("", "pods").spec
    return Attributes(resource, operation, NS, "p", pod, subresource=subresource)


async def admit(registry: Registry, spec: Obj, annotations: Obj | None = None) -> Obj:
    attrs = attributes(registry, spec, annotations)
    sa = plugin(registry)
    assert sa.handles(attrs)
    await sa.admit(attrs)
    await sa.validate(attrs)
    return spec


MUTATIONS = [
    ("no-account-gets-default", [account()], {"containers": [container()]},
     {"serviceAccountName": "default", "containers": [container(volumeMounts=[MOUNT])],
      "volumes": [TOKEN_VOLUME]}),
    ("named-account", [account("builder")],
     {"serviceAccountName": "builder", "containers": [container()]},
     {"serviceAccountName": "builder", "containers": [container(volumeMounts=[MOUNT])],
      "volumes": [TOKEN_VOLUME]}),
    ("deprecated-serviceAccount-field", [account("builder")],
     {"serviceAccount": "builder", "containers": [container()]},
     {"serviceAccount": "builder", "containers": [container(volumeMounts=[MOUNT])],
      "volumes": [TOKEN_VOLUME]}),
    ("pod-automount-false", [account()],
     {"automountServiceAccountToken": False, "containers": [container()]},
     {"automountServiceAccountToken": False, "serviceAccountName": "default",
      "containers": [container()]}),
    ("account-automount-false", [account(automountServiceAccountToken=False)],
     {"containers": [container()]},
     {"serviceAccountName": "default", "containers": [container()]}),
    ("pod-true-beats-account-false", [account(automountServiceAccountToken=False)],
     {"automountServiceAccountToken": True, "containers": [container()]},
     {"automountServiceAccountToken": True, "serviceAccountName": "default",
      "containers": [container(volumeMounts=[MOUNT])], "volumes": [TOKEN_VOLUME]}),
    ("init-containers-mounted-too", [account()],
     {"initContainers": [container("i")], "containers": [container()]},
     {"serviceAccountName": "default", "initContainers": [container("i", volumeMounts=[MOUNT])],
      "containers": [container(volumeMounts=[MOUNT])], "volumes": [TOKEN_VOLUME]}),
    ("own-mount-at-token-path-kept", [account()],
     {"containers": [container("a", volumeMounts=[{"name": "mine", "mountPath": TOKEN_MOUNT_PATH}]),
                     container("b")],
      "volumes": [{"name": "mine", "emptyDir": {}}]},
     {"serviceAccountName": "default",
      "containers": [container("a", volumeMounts=[{"name": "mine", "mountPath": TOKEN_MOUNT_PATH}]),
                     container("b", volumeMounts=[MOUNT])],
      "volumes": [{"name": "mine", "emptyDir": {}}, TOKEN_VOLUME]}),
    ("every-container-mounts-its-own", [account()],
     {"containers": [container(volumeMounts=[{"name": "mine", "mountPath": TOKEN_MOUNT_PATH}])],
      "volumes": [{"name": "mine", "emptyDir": {}}]},
     {"serviceAccountName": "default",
      "containers": [container(volumeMounts=[{"name": "mine", "mountPath": TOKEN_MOUNT_PATH}])],
      "volumes": [{"name": "mine", "emptyDir": {}}]}),
    ("existing-kube-api-access-volume-reused", [account()],
     {"containers": [container()], "volumes": [{"name": "kube-api-access-old", "emptyDir": {}}]},
     {"serviceAccountName": "default",
      "containers": [container(volumeMounts=[{**MOUNT, "name": "kube-api-access-old"}])],
      "volumes": [{"name": "kube-api-access-old", "emptyDir": {}}]}),
    ("ephemeral-containers-not-mounted", [account()],
     {"containers": [container()], "ephemeralContainers": [container("debug")]},
     {"serviceAccountName": "default", "containers": [container(volumeMounts=[MOUNT])],
      "ephemeralContainers": [container("debug")], "volumes": [TOKEN_VOLUME]}),
    ("pull-secrets-copied", [account(imagePullSecrets=[{"name": "reg"}, {"name": "reg2"}])],
     {"automountServiceAccountToken": False, "containers": [container()]},
     {"automountServiceAccountToken": False, "serviceAccountName": "default",
      "containers": [container()], "imagePullSecrets": [{"name": "reg"}, {"name": "reg2"}]}),
    ("own-pull-secrets-kept", [account(imagePullSecrets=[{"name": "reg"}])],
     {"automountServiceAccountToken": False, "imagePullSecrets": [{"name": "mine"}],
      "containers": [container()]},
     {"automountServiceAccountToken": False, "serviceAccountName": "default",
      "imagePullSecrets": [{"name": "mine"}], "containers": [container()]}),
    ("mirror-pod-untouched", [], {"containers": [container()]}, {"containers": [container()]}),
    ("listed-secrets-allowed-when-enforced",
     [account(annotations=ENFORCE, secrets=[{"name": "s"}], imagePullSecrets=[{"name": "reg"}])],
     {"automountServiceAccountToken": False, "imagePullSecrets": [{"name": "reg"}],
      "containers": [container(envFrom=[{"secretRef": {"name": "s"}}])],
      "volumes": [{"name": "v", "secret": {"secretName": "s"}}]},
     {"automountServiceAccountToken": False, "serviceAccountName": "default",
      "imagePullSecrets": [{"name": "reg"}],
      "containers": [container(envFrom=[{"secretRef": {"name": "s"}}])],
      "volumes": [{"name": "v", "secret": {"secretName": "s"}}]}),
]


@pytest.mark.parametrize(("accounts", "given", "expected"),
                         [case[1:] for case in MUTATIONS], ids=[case[0] for case in MUTATIONS])
async def test_new_pods_run_as_an_account_with_its_token_mounted(
        registry: Registry, accounts: list[Obj], given: Obj, expected: Obj) -> None:
    await store(registry, *accounts)
    mirror = MIRROR if not accounts else None
    assert await admit(registry, given, mirror) == expected


SECRET_ENV = [{"name": "E", "valueFrom": {"secretKeyRef": {"name": "other", "key": "k"}}}]
ENFORCING = account(annotations=ENFORCE, secrets=[{"name": "s"}])
REFUSALS = [
    ("named-account-missing", [account()], {"serviceAccountName": "builder"}, None,
     'pods "p" is forbidden: error looking up service account team/builder: '
     'serviceaccount "builder" not found'),
    ("default-account-missing", [], {}, None,
     'pods "p" is forbidden: error looking up service account team/default: '
     'serviceaccount "default" not found'),
    ("mirror-pod-naming-an-account", [account()], {"serviceAccountName": "default"}, MIRROR,
     'pods "p" is forbidden: a mirror pod may not reference service accounts'),
    ("mirror-pod-with-secret-volume", [account()],
     {"volumes": [{"name": "v", "secret": {"secretName": "s"}}]}, MIRROR,
     'pods "p" is forbidden: a mirror pod may not reference secrets'),
    ("mirror-pod-with-secret-env", [account()],
     {"containers": [container(env=SECRET_ENV)]}, MIRROR,
     'pods "p" is forbidden: a mirror pod may not reference secrets'),
    ("mirror-pod-with-token-projection", [account()],
     {"volumes": [{"name": "t", "projected": {"sources": [
         {"serviceAccountToken": {"path": "token"}}]}}]}, MIRROR,
     'pods "p" is forbidden: a mirror pod may not use ServiceAccountToken volume projections'),
    ("enforced-secret-volume", [ENFORCING],
     {"volumes": [{"name": "v", "secret": {"secretName": "other"}}]}, None,
     'pods "p" is forbidden: volume with secret.secretName="other" is not allowed because '
     'service account default does not reference that secret'),
    ("enforced-container-env", [ENFORCING], {"containers": [container(env=SECRET_ENV)]}, None,
     'pods "p" is forbidden: container c with envVar E referencing secret.secretName="other" '
     'is not allowed because service account default does not reference that secret'),
    ("enforced-init-container-envfrom", [ENFORCING],
     {"initContainers": [container("i", envFrom=[{"secretRef": {"name": "other"}}])]}, None,
     'pods "p" is forbidden: init container i with envFrom referencing '
     'secret.secretName="other" is not allowed because service account default does not '
     'reference that secret'),
    ("enforced-pull-secret", [ENFORCING], {"imagePullSecrets": [{"name": "reg"}]}, None,
     'pods "p" is forbidden: imagePullSecrets[0].name="reg" is not allowed because service '
     'account default does not reference that imagePullSecret'),
]


@pytest.mark.parametrize(("accounts", "spec", "annotations", "message"),
                         [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
async def test_pods_are_refused_with_upstreams_words(
        registry: Registry, accounts: list[Obj], spec: Obj, annotations: Obj | None,
        message: str) -> None:
    await store(registry, *accounts)
    spec.setdefault("containers", [container()])
    with pytest.raises(errors.Forbidden) as refused:
        await admit(registry, spec, annotations)
    assert refused.value.message == message
    assert refused.value.to_status()["code"] == 403


EPHEMERAL = [
    ("not-enforced", account(), container("debug", env=SECRET_ENV), None),
    ("enforced-listed", ENFORCING, container("debug", envFrom=[{"secretRef": {"name": "s"}}]),
     None),
    ("enforced-env", ENFORCING, container("debug", env=SECRET_ENV),
     'Internal error occurred: ephemeral container debug with envVar E referencing '
     'secret.secretName="other" is not allowed because service account default does not '
     'reference that secret'),
    ("enforced-envfrom", ENFORCING, container("debug", envFrom=[{"secretRef": {"name": "x"}}]),
     'Internal error occurred: ephemeral container debug with envFrom referencing '
     'secret.secretName="x" is not allowed because service account default does not '
     'reference that secret'),
]


@pytest.mark.parametrize(("sa", "debug", "message"), [case[1:] for case in EPHEMERAL],
                         ids=[case[0] for case in EPHEMERAL])
async def test_ephemeral_containers_are_held_to_mountable_secrets(
        registry: Registry, sa: Obj, debug: Obj, message: str | None) -> None:
    await store(registry, sa)
    attrs = attributes(registry, {"serviceAccountName": "default", "containers": [container()],
                                  "ephemeralContainers": [debug]},
                       operation=Operation.UPDATE, subresource="ephemeralcontainers")
    sa_plugin = plugin(registry)
    assert sa_plugin.handles(attrs)
    await sa_plugin.admit(attrs)  # never changes an existing pod
    assert "volumeMounts" not in debug
    if message is None:
        assert await sa_plugin.validate(attrs) is None
        return
    with pytest.raises(errors.InternalError) as failed:
        await sa_plugin.validate(attrs)
    assert failed.value.message == message


async def test_ephemeral_containers_need_the_pods_account(registry: Registry) -> None:
    await store(registry)
    attrs = attributes(registry, {"serviceAccountName": "gone", "containers": [container()]},
                       operation=Operation.UPDATE, subresource="ephemeralcontainers")
    with pytest.raises(errors.Forbidden, match='serviceaccount "gone" not found'):
        await plugin(registry).validate(attrs)


@pytest.mark.parametrize(("plural", "operation", "subresource", "handled"), [
    ("pods", Operation.CREATE, "", True),
    ("pods", Operation.UPDATE, "", False),
    ("pods", Operation.UPDATE, "status", False),
    ("pods", Operation.CREATE, "binding", False),
    ("pods", Operation.UPDATE, "ephemeralcontainers", True),
    ("pods", Operation.DELETE, "", False),
    ("configmaps", Operation.CREATE, "", False),
], ids=["create", "update", "status", "binding", "ephemeralcontainers", "delete", "configmap"])
def test_only_new_pods_and_ephemeral_containers_are_its_business(
        registry: Registry, plural: str, operation: Operation, subresource: str,
        handled: bool) -> None:
    attrs = Attributes(registry.store_for("", plural).spec, operation, NS, "p",
                       {"metadata": {"name": "p"}, "spec": {}}, subresource=subresource)
    assert plugin(registry).handles(attrs) is handled


async def test_a_pod_waits_for_its_namespaces_default_account(registry: Registry) -> None:
    await store(registry)
    attrs = attributes(registry, {"containers": [container()]})
    waiting = asyncio.create_task(plugin(registry, wait=30.0).admit(attrs))
    await asyncio.sleep(0)  # the admission is waiting on the cache now
    assert not waiting.done()
    await registry.store_for("", "serviceaccounts").create(
        NS, account(), WriteOptions())
    await asyncio.wait_for(waiting, 10)
    assert attrs.obj["spec"]["volumes"] == [TOKEN_VOLUME]


async def test_a_named_account_is_not_waited_for(registry: Registry) -> None:
    await store(registry)
    attrs = attributes(registry, {"serviceAccountName": "later", "containers": [container()]})
    with pytest.raises(errors.Forbidden):
        await asyncio.wait_for(plugin(registry, wait=3600.0).admit(attrs), 10)


@pytest.fixture
async def sa_registry(tmp_path: Path) -> Any:
    """A registry whose own chain runs the ServiceAccount plugin."""
    backend = open_backend(f"sqlite://{tmp_path}/db")
    await backend.start()
    cache = Cache(backend)
    registry = Registry(backend=backend, cache=cache, service_account_admission=True)
    await cache.start()
    yield registry
    await cache.stop()
    await backend.close()


async def test_the_registry_chain_mounts_the_token_and_keeps_the_account(
        sa_registry: Registry) -> None:
    await store(sa_registry, account())
    pods = sa_registry.store_for("", "pods")
    pod = await pods.create(NS, {"metadata": {"name": "p"},
                                 "spec": {"containers": [container()]}}, WriteOptions())
    spec = pod["spec"]
    assert spec["serviceAccountName"] == spec["serviceAccount"] == "default"
    [volume] = spec["volumes"]
    assert volume["name"].startswith("kube-api-access-") and len(volume["name"]) == 21
    assert volume["projected"] == token_volume_source()
    assert spec["containers"][0]["volumeMounts"] == [
        {"name": volume["name"], "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}]
    changed = copy.deepcopy(pod)
    changed["spec"]["serviceAccountName"] = changed["spec"]["serviceAccount"] = "other"
    with pytest.raises(errors.Invalid, match="pod updates may not change fields"):
        await pods.update(NS, "p", changed, WriteOptions())


async def test_the_registry_chain_refuses_a_pod_without_its_account(
        sa_registry: Registry) -> None:
    await store(sa_registry, account())
    with pytest.raises(errors.Forbidden, match='serviceaccount "ghost" not found'):
        await sa_registry.store_for("", "pods").create(
            NS, {"metadata": {"name": "p"}, "spec": {"serviceAccountName": "ghost",
                                                     "containers": [container()]}},
            WriteOptions())


async def test_a_mirror_pod_is_stored_without_an_account(sa_registry: Registry) -> None:
    await store(sa_registry)
    pod = await sa_registry.store_for("", "pods").create(
        NS, {"metadata": {"name": "p", "annotations": MIRROR},
             "spec": {"containers": [container()]}}, WriteOptions())
    assert "serviceAccountName" not in pod["spec"] and "volumes" not in pod["spec"]
