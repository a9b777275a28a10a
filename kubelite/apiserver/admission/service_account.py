"""ServiceAccount (plugin/pkg/admission/serviceaccount upstream): every pod runs as a
ServiceAccount that exists, and gets the API credentials of it mounted.

On create (mutating), a pod that names no ServiceAccount gets `default`; the account
must exist in the pod's namespace, or the pod is refused with upstream's words
(`pods "p" is forbidden: error looking up service account ns/x: serviceaccount "x"
not found`). Unless the pod, or when the pod does not say the account, sets
automountServiceAccountToken false, the pod gets the projected volume
`kube-api-access-<5 random characters>` (a bound token, the cluster's CA bundle from
the kube-root-ca.crt ConfigMap and the namespace) mounted read-only at
/var/run/secrets/kubernetes.io/serviceaccount in every init container and container
that does not mount something there already. A pod with no imagePullSecrets gets the
account's. Mirror pods (annotation kubernetes.io/config.mirror), which the kubelet
creates from static manifests and would delete if their spec changed, are not changed
but may reference no ServiceAccount, no Secret and no token projection.

Validation (create, and updates through pods/ephemeralcontainers) checks again that
the account exists and, when the account is annotated
kubernetes.io/enforce-mountable-secrets=true, that the pod references only the Secrets
the account lists. Every other update passes: pod validation already forbids changing
the service account of an existing pod.

The account is read from the watch cache. The `default` one is made by the
serviceaccount control loop moments after its namespace, so a pod created right after
its namespace waits for it, for about as long as upstream's ten lookups take (2 s),
woken by the cache as soon as the account arrives.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any, ClassVar

from kubelite.api.pod_references import pod_secret_names
from kubelite.apiserver.admission.chain import Attributes, Finish, Operation
from kubelite.apiserver.admission.stores import Stores
from kubelite.apiserver.watchcache import Cache, CacheEvent, Entry
from kubelite.machinery import errors

Obj = dict[str, Any]

DEFAULT_SERVICE_ACCOUNT = "default"
ENFORCE_MOUNTABLE_SECRETS = "kubernetes.io/enforce-mountable-secrets"
MIRROR_POD = "kubernetes.io/config.mirror"
VOLUME_PREFIX = "kube-api-access-"
TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
ROOT_CA_CONFIG_MAP = "kube-root-ca.crt"
# upstream's WarnOnlyBoundTokenExpirationSeconds: a token the kubelet refreshes hourly,
# its odd length telling the token authenticator to warn of, not refuse, old tokens
TOKEN_EXPIRATION_SECONDS = 3607
DEFAULT_WAIT = 2.0
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # upstream's names.SimpleNameGenerator


def random_suffix() -> str:
    return "".join(random.choices(_SUFFIX_ALPHABET, k=5))


def token_volume_source() -> Obj:
    """upstream's TokenVolumeSource, defaultMode set explicitly as upstream does."""
    return {"defaultMode": 420, "sources": [
        {"serviceAccountToken": {"expirationSeconds": TOKEN_EXPIRATION_SECONDS,
                                 "path": "token"}},
        {"configMap": {"name": ROOT_CA_CONFIG_MAP,
                       "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
            "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
    ]}


def _dicts(value: Any) -> list[Obj]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def account_name(spec: Obj) -> str:
    """The pod's account; v1's deprecated serviceAccount stands in when
    serviceAccountName is empty, as the v1 conversion makes it."""
    return str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "")


def should_automount(account: Obj, spec: Obj) -> bool:
    """The pod's preference wins, then the account's; true when neither says."""
    if isinstance(spec.get("automountServiceAccountToken"), bool):
        return bool(spec["automountServiceAccountToken"])
    if isinstance(account.get("automountServiceAccountToken"), bool):
        return bool(account["automountServiceAccountToken"])
    return True


def mount_token(spec: Obj, suffix: Callable[[], str] = random_suffix) -> None:
    """Mount the token volume in every init container and container that mounts
    nothing at the token path; add the volume if one did and the pod lacks it. A volume
    already named kube-api-access-* is taken to be it."""
    volumes = _dicts(spec.get("volumes"))
    existing = next((str(v["name"]) for v in volumes
                     if str(v.get("name") or "").startswith(VOLUME_PREFIX)), None)
    volume_name = existing or VOLUME_PREFIX + suffix()
    mounted = False
    for key in ("initContainers", "containers"):
        for container in _dicts(spec.get(key)):
            mounts = container.get("volumeMounts")
            if any(m.get("mountPath") == TOKEN_MOUNT_PATH for m in _dicts(mounts)):
                continue
            container["volumeMounts"] = [*(mounts if isinstance(mounts, list) else []),
                                         {"name": volume_name, "readOnly": True,
                                          "mountPath": TOKEN_MOUNT_PATH}]
            mounted = True
    if mounted and existing is None:
        spec["volumes"] = [*(spec["volumes"] if isinstance(spec.get("volumes"), list) else []),
                           {"name": volume_name, "projected": token_volume_source()}]


def copy_pull_secrets(spec: Obj, account: Obj) -> None:
    """A pod with no imagePullSecrets gets the account's (names only)."""
    given = _dicts(account.get("imagePullSecrets"))
    if not spec.get("imagePullSecrets") and given:
        spec["imagePullSecrets"] = [{"name": s.get("name") or ""} for s in given]


def parse_bool(value: Any) -> bool:
    """Go's strconv.ParseBool, anything unparsable being false."""
    return value in ("1", "t", "T", "TRUE", "true", "True")


def enforces_mountable_secrets(account: Obj) -> bool:
    annotations = (account.get("metadata") or {}).get("annotations") or {}
    return parse_bool(annotations.get(ENFORCE_MOUNTABLE_SECRETS))


def _env_violation(kind: str, container: Obj, allowed: set[str], account: str) -> str | None:
    name = container.get("name")
    for env in _dicts(container.get("env")):
        ref = (env.get("valueFrom") or {}).get("secretKeyRef")
        if isinstance(ref, dict) and ref.get("name", "") not in allowed:
            return (f'{kind} {name} with envVar {env.get("name")} referencing '
                    f'secret.secretName="{ref.get("name", "")}" is not allowed because '
                    f'service account {account} does not reference that secret')
    for env_from in _dicts(container.get("envFrom")):
        ref = env_from.get("secretRef")
        if isinstance(ref, dict) and ref.get("name", "") not in allowed:
            return (f'{kind} {name} with envFrom referencing secret.secretName='
                    f'"{ref.get("name", "")}" is not allowed because service account '
                    f'{account} does not reference that secret')
    return None


def _listed(account: Obj, key: str) -> set[str]:
    return {str(s.get("name") or "") for s in _dicts(account.get(key))}


def secret_violation(account: Obj, spec: Obj) -> str | None:
    """upstream's limitSecretReferences: the first Secret the pod references (secret
    volumes, env, envFrom, imagePullSecrets) that the account does not list."""
    name = (account.get("metadata") or {}).get("name")
    allowed = _listed(account, "secrets")
    for volume in _dicts(spec.get("volumes")):
        secret = volume.get("secret")
        if isinstance(secret, dict) and secret.get("secretName", "") not in allowed:
            return (f'volume with secret.secretName="{secret.get("secretName", "")}" is not '
                    f'allowed because service account {name} does not reference that secret')
    for key, kind in (("initContainers", "init container"), ("containers", "container")):
        for container in _dicts(spec.get(key)):
            if (found := _env_violation(kind, container, allowed, str(name))) is not None:
                return found
    pulls = _listed(account, "imagePullSecrets")
    for i, ref in enumerate(_dicts(spec.get("imagePullSecrets"))):
        if ref.get("name", "") not in pulls:
            return (f'imagePullSecrets[{i}].name="{ref.get("name", "")}" is not allowed '
                    f'because service account {name} does not reference that imagePullSecret')
    return None


def ephemeral_secret_violation(account: Obj, spec: Obj) -> str | None:
    name = str((account.get("metadata") or {}).get("name"))
    allowed = _listed(account, "secrets")
    for container in _dicts(spec.get("ephemeralContainers")):
        if (found := _env_violation("ephemeral container", container, allowed, name)):
            return found
    return None


def mirror_pod_violation(spec: Obj) -> str | None:
    if account_name(spec):
        return "a mirror pod may not reference service accounts"
    if next(pod_secret_names(spec), None) is not None:
        return "a mirror pod may not reference secrets"
    for volume in _dicts(spec.get("volumes")):
        for projection in _dicts((volume.get("projected") or {}).get("sources")):
            if projection.get("serviceAccountToken") is not None:
                return "a mirror pod may not use ServiceAccountToken volume projections"
    return None


class ServiceAccount:
    name: ClassVar[str] = "ServiceAccount"

    def __init__(self, *, stores: Stores, cache: Cache, default_wait: float = DEFAULT_WAIT,
                 suffix: Callable[[], str] = random_suffix) -> None:
        """`default_wait`: how long a pod waits for its namespace's `default` account;
        `suffix`: the token volume's name suffix (random, as upstream's)."""
        self.stores = stores
        self.cache = cache
        self.default_wait = default_wait
        self.suffix = suffix
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        cache.add_listener(self._on_event)

    def handles(self, attrs: Attributes) -> bool:
        if not attrs.is_resource("", "pods") or not isinstance(attrs.obj, dict):
            return False
        if attrs.operation is Operation.CREATE:
            return not attrs.subresource
        return attrs.operation is Operation.UPDATE and attrs.subresource == "ephemeralcontainers"

    async def admit(self, attrs: Attributes) -> None:
        if attrs.operation is not Operation.CREATE:
            return  # pods are changed only as they are created
        spec = attrs.obj.get("spec")
        if not isinstance(spec, dict):
            return  # validation refuses it with the field's own words
        if MIRROR_POD not in ((attrs.obj.get("metadata") or {}).get("annotations") or {}):
            if not account_name(spec):
                spec["serviceAccountName"] = DEFAULT_SERVICE_ACCOUNT
            account = await self.account(attrs, account_name(spec))
            if should_automount(account, spec):
                mount_token(spec, self.suffix)
            copy_pull_secrets(spec, account)
        await self.validate(attrs)

    async def validate(self, attrs: Attributes) -> Finish | None:
        spec = attrs.obj.get("spec")
        if not isinstance(spec, dict):
            return None
        if attrs.operation is Operation.UPDATE:  # pods/ephemeralcontainers
            account = await self.account(attrs, self._required_name(attrs, spec))
            if enforces_mountable_secrets(account) and \
                    (reason := ephemeral_secret_violation(account, spec)) is not None:
                # upstream returns this one unwrapped, which the server answers with 500
                raise errors.InternalError(f"Internal error occurred: {reason}")
            return None
        if MIRROR_POD in ((attrs.obj.get("metadata") or {}).get("annotations") or {}):
            if (reason := mirror_pod_violation(spec)) is not None:
                raise attrs.forbidden(reason)
            return None
        account = await self.account(attrs, self._required_name(attrs, spec))
        if enforces_mountable_secrets(account) and \
                (reason := secret_violation(account, spec)) is not None:
            raise attrs.forbidden(reason)
        return None

    @staticmethod
    def _required_name(attrs: Attributes, spec: Obj) -> str:
        if not (name := account_name(spec)):
            pod = (attrs.obj.get("metadata") or {}).get("name") or ""
            raise attrs.forbidden(
                f"no service account specified for pod {attrs.namespace}/{pod}")
        return name

    async def account(self, attrs: Attributes, name: str) -> Obj:
        """The ServiceAccount, or upstream's Forbidden when there is none."""
        found = await self._lookup(attrs.namespace, name)
        if found is None:
            raise attrs.forbidden(f"error looking up service account {attrs.namespace}/"
                                  f"{name}: serviceaccount \"{name}\" not found")
        return found

    async def _lookup(self, namespace: str, name: str) -> Obj | None:
        store = self.stores.store_for("", "serviceaccounts")
        entry = await store.cached_entry(namespace, name)
        if entry is None and name == DEFAULT_SERVICE_ACCOUNT and self.default_wait > 0:
            entry = await self._wait_for(store.key(namespace, name))
        return None if entry is None else entry.obj

    async def _wait_for(self, key: str) -> Entry | None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, []).append(waiter)
        try:
            if self.cache.get(key) is None:
                await asyncio.wait_for(waiter, self.default_wait)
        except TimeoutError:
            pass
        finally:
            waiting = self._waiters.get(key, [])
            if waiter in waiting:
                waiting.remove(waiter)
            if not waiting:
                self._waiters.pop(key, None)
        return self.cache.get(key)

    def _on_event(self, event: CacheEvent) -> None:
        """A cache listener: wake the pods waiting for an account that arrived."""
        if event.type != "DELETED" and event.key in self._waiters:
            for waiter in self._waiters.pop(event.key):
                if not waiter.done():
                    waiter.set_result(None)
