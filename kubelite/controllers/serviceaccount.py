"""The ServiceAccount loop: a `default` ServiceAccount in every active namespace,
recreated when deleted (upstream's pkg/controller/serviceaccount/serviceaccounts_controller.go).

Keys are namespace names. A namespace added or updated is synced; so is the namespace
of an ensured ServiceAccount that is deleted. The sync creates what the ServiceAccount
lister lacks; AlreadyExists means a stale cache and is fine, and a namespace that began
terminating refuses the write with NamespaceTerminating, which is no failure either.
Namespaces not Active are left alone.
"""

from __future__ import annotations

from kubelite.client.controller import Controller
from kubelite.controllers.context import LoopContext
from kubelite.controllers.pod_control import namespace_terminating
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors

ENSURED = ("default",)  # upstream's ServiceAccountsToEnsure


class ServiceAccountLoop:
    name = "serviceaccount"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=1)
        self.namespaces = ctx.informers.informer("namespaces")
        self.accounts = ctx.informers.informer("serviceaccounts")
        self.namespaces.add_event_handler(
            on_add=self._namespace_changed, on_update=lambda _old, new: self._namespace_changed(new))
        self.accounts.add_event_handler(on_delete=self._account_deleted)

    async def run(self) -> None:
        await self.controller.run()

    def _namespace_changed(self, namespace: Obj) -> None:
        self.controller.enqueue(str(meta(namespace).get("name") or ""))

    def _account_deleted(self, account: Obj) -> None:
        if meta(account).get("name") in ENSURED:
            self.controller.enqueue(str(meta(account).get("namespace") or ""))

    async def sync(self, namespace: str) -> None:
        ns = self.namespaces.lister.get("", namespace)
        if ns is None or (ns.get("status") or {}).get("phase", "Active") != "Active":
            return
        failures: list[errors.StatusError] = []
        for name in ENSURED:
            if self.accounts.lister.get(namespace, name) is not None:
                continue
            account = {"apiVersion": "v1", "kind": "ServiceAccount",
                       "metadata": {"name": name, "namespace": namespace}}
            try:
                await self.client.create("serviceaccounts", account, namespace=namespace)
            except errors.AlreadyExists:
                pass
            except errors.StatusError as err:
                if not namespace_terminating(err):
                    failures.append(err)
        if failures:
            raise failures[0]
