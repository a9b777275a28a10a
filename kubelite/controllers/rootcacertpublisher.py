"""The root CA publisher: a ConfigMap `kube-root-ca.crt` in every namespace holding the
CA bundle that verifies the API server, which every pod's kube-api-access-* volume
projects as ca.crt (upstream's pkg/controller/certificates/rootcacertpublisher).

Keys are namespace names. A namespace added, or updated while Active, is synced; so is
the namespace of a kube-root-ca.crt ConfigMap that is updated or deleted. The sync
creates the ConfigMap the lister lacks, and otherwise puts back the bundle and the
kubernetes.io/description annotation if either differs (`data` is replaced whole, so a
key someone added goes too; other annotations and labels stay). A namespace that is
gone or terminating refuses the create, which is no failure.

The bundle is `LoopSettings.root_ca_pem`, read by the command line from
`--root-ca-file`; without one the loop does nothing (upstream falls back to the CA its
own kubeconfig trusts).
"""

from __future__ import annotations

import logging

from kubelite.client.controller import Controller
from kubelite.controllers.context import LoopContext
from kubelite.controllers.pod_control import namespace_terminating
from kubelite.controllers.pods import Obj, meta
from kubelite.machinery import errors

log = logging.getLogger(__name__)

CONFIG_MAP = "kube-root-ca.crt"
DESCRIPTION_ANNOTATION = "kubernetes.io/description"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when "
               "using internal endpoints such as the internal service IP or "
               "kubernetes.default.svc. No other usage is guaranteed across distributions "
               "of Kubernetes clusters.")


def desired_config_map(root_ca: str) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": CONFIG_MAP,
                         "annotations": {DESCRIPTION_ANNOTATION: DESCRIPTION}},
            "data": {"ca.crt": root_ca}}


def corrected(config_map: Obj, root_ca: str) -> Obj | None:
    """The ConfigMap with the bundle and the description put back, or None when both
    are right already (upstream asks only that the annotation be non-empty)."""
    annotations = meta(config_map).get("annotations") or {}
    if config_map.get("data") == {"ca.crt": root_ca} and annotations.get(DESCRIPTION_ANNOTATION):
        return None
    return {**config_map, "metadata": {**meta(config_map),
                                       "annotations": {**annotations,
                                                       DESCRIPTION_ANNOTATION: DESCRIPTION}},
            "data": {"ca.crt": root_ca}}


class RootCACertPublisherLoop:
    name = "root-ca-cert-publisher"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.root_ca = ctx.settings.root_ca_pem
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=1)
        if self.root_ca is None:
            return  # nothing to publish: ask for no informer
        self.namespaces = ctx.informers.informer("namespaces")
        self.config_maps = ctx.informers.informer("configmaps")
        self.namespaces.add_event_handler(on_add=self._namespace_added,
                                          on_update=self._namespace_updated)
        self.config_maps.add_event_handler(
            on_update=lambda _old, new: self._config_map_changed(new),
            on_delete=self._config_map_changed)

    async def run(self) -> None:
        if self.root_ca is None:
            log.info("%s: no root CA bundle (--root-ca-file) to publish", self.name)
            return
        await self.controller.run()

    def _namespace_added(self, namespace: Obj) -> None:
        self.controller.enqueue(str(meta(namespace).get("name") or ""))

    def _namespace_updated(self, _old: Obj, namespace: Obj) -> None:
        if (namespace.get("status") or {}).get("phase", "Active") == "Active":
            self._namespace_added(namespace)

    def _config_map_changed(self, config_map: Obj) -> None:
        if meta(config_map).get("name") == CONFIG_MAP:
            self.controller.enqueue(str(meta(config_map).get("namespace") or ""))

    async def sync(self, namespace: str) -> None:
        assert self.root_ca is not None  # no key is queued without a bundle
        current = self.config_maps.lister.get(namespace, CONFIG_MAP)
        if current is None:
            try:
                await self.client.create("configmaps", desired_config_map(self.root_ca),
                                         namespace=namespace)
            except errors.NotFound:
                pass  # the namespace is gone
            except errors.StatusError as err:  # AlreadyExists: retried once the lister has it
                if not namespace_terminating(err):
                    raise
            return
        fixed = corrected(current, self.root_ca)
        if fixed is not None:
            await self.client.update("configmaps", fixed, namespace=namespace)
