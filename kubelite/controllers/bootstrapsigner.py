"""The bootstrap signer: kube-public/cluster-info carries a signature per signing token
(upstream's pkg/controller/bootstrap/bootstrapsigner.go, which kubeadm turns on).

A node joining with a bootstrap token (`kubelite agent --token`) does not yet trust the
server: it reads cluster-info anonymously and believes the CA in its kubeconfig only if
`jws-kubeconfig-<token id>` is the token's signature over that kubeconfig. This loop
keeps one signature for every unexpired token with usage-bootstrap-signing, and none
for any other: a token deleted or expired takes its signature with it.

There is one key, the ConfigMap's: every change to it or to any Secret enqueues it,
and the queue collapses the bursts. Signatures are recomputed from scratch each sync
(HMACs, cheap) and written only when they differ. An expiring token's key comes back
when it expires.
"""

from __future__ import annotations

import logging

from kubelite.api.bootstrap_token import (
    CLUSTER_INFO_NAME, CLUSTER_INFO_NAMESPACE, JWS_PREFIX, KUBECONFIG_KEY, NAMESPACE,
    SECRET_TYPE, detached_signature, seconds_left, signs)
from kubelite.client.controller import Controller
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors

log = logging.getLogger(__name__)

KEY = f"{CLUSTER_INFO_NAMESPACE}/{CLUSTER_INFO_NAME}"


class BootstrapSignerLoop:
    name = "bootstrapsigner"

    def __init__(self, ctx: LoopContext, *, clock: Clock = utc_now) -> None:
        self.client = ctx.client
        self.clock = clock
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=1)
        self.configmaps = ctx.informers.informer("configmaps")
        self.secrets = ctx.informers.informer("secrets")
        self.configmaps.add_event_handler(on_add=self._configmap_changed,
                                          on_update=lambda _old, new: self._configmap_changed(new))
        self.secrets.add_event_handler(on_add=self._secret_changed,
                                       on_update=lambda _old, new: self._secret_changed(new),
                                       on_delete=self._secret_changed)

    async def run(self) -> None:
        await self.controller.run()

    def _configmap_changed(self, configmap: Obj) -> None:
        if (meta(configmap).get("namespace"), meta(configmap).get("name")) == \
                (CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_NAME):
            self.controller.enqueue(KEY)

    def _secret_changed(self, secret: Obj) -> None:
        if meta(secret).get("namespace") == NAMESPACE and secret.get("type") == SECRET_TYPE:
            self.controller.enqueue(KEY)

    def signatures(self, content: str) -> dict[str, str]:
        """The signatures cluster-info should carry now, by data key."""
        now = self.clock()
        wanted: dict[str, str] = {}
        for secret in self.secrets.lister.list(NAMESPACE):
            if secret.get("type") != SECRET_TYPE or (token := signs(secret, now)) is None:
                continue
            token_id, token_value = token
            wanted.setdefault(JWS_PREFIX + token_id, detached_signature(content, token_id, token_value))
            left = seconds_left(secret, now)
            if left is not None:
                self.controller.enqueue_after(KEY, left + 1)  # drop it once it expires
        return wanted

    async def sync(self, key: str) -> None:
        configmap = self.configmaps.lister.get(CLUSTER_INFO_NAMESPACE, CLUSTER_INFO_NAME)
        if configmap is None:
            return
        data: dict[str, str] = dict(configmap.get("data") or {})
        content = data.get(KUBECONFIG_KEY)
        if content is None:
            return
        unsigned = {k: v for k, v in data.items() if not k.startswith(JWS_PREFIX)}
        wanted = {**unsigned, **self.signatures(content)}
        if wanted == data:
            return
        updated = {**configmap, "data": wanted}
        try:
            await self.client.update("configmaps", updated, namespace=CLUSTER_INFO_NAMESPACE)
        except (errors.NotFound, errors.Conflict):
            return  # gone, or changed: that change enqueues us again
