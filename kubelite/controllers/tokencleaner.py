"""The token cleaner: expired bootstrap tokens are deleted (upstream's
pkg/controller/bootstrap/tokencleaner.go, which k3s turns on; kube-controller-manager
leaves it off by default).

Keys are kube-system bootstrap-token Secrets (`kube-system/bootstrap-token-<id>`). A
token with an expiration is synced when it appears or changes; before it expires, its
key waits in the queue for the time left; once expired, the Secret is deleted with its
uid as precondition, so a token re-created under the same name in the meantime stays.
A token without expiration never expires (one whose expiration does not parse has,
as upstream says).
"""

from __future__ import annotations

import logging

from kubelite.api.bootstrap_token import NAMESPACE, SECRET_TYPE, seconds_left
from kubelite.client.controller import Controller
from kubelite.client.store import object_key, split_key
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors

log = logging.getLogger(__name__)


class TokenCleanerLoop:
    name = "tokencleaner"

    def __init__(self, ctx: LoopContext, *, clock: Clock = utc_now) -> None:
        self.client = ctx.client
        self.clock = clock
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=1)
        self.secrets = ctx.informers.informer("secrets")
        self.secrets.add_event_handler(on_add=self._secret_changed,
                                       on_update=lambda _old, new: self._secret_changed(new))

    async def run(self) -> None:
        await self.controller.run()

    def _secret_changed(self, secret: Obj) -> None:
        if meta(secret).get("namespace") == NAMESPACE and secret.get("type") == SECRET_TYPE:
            self.controller.enqueue(object_key(secret))

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        secret = self.secrets.lister.get(namespace, name)
        if secret is None or meta(secret).get("deletionTimestamp"):
            return
        left = seconds_left(secret, self.clock())
        if left is None:
            return
        if left > 0:
            self.controller.enqueue_after(key, left)
            return
        log.info("deleting expired bootstrap token %s", key)
        try:
            await self.client.delete("secrets", name, namespace=namespace,
                                     preconditions={"uid": str(meta(secret).get("uid"))})
        except (errors.NotFound, errors.Conflict):
            return  # gone already, or a new token by that name
