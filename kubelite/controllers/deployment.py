"""The Deployment loop (upstream's pkg/controller/deployment/deployment_controller.go):
a Deployment's pods run through ReplicaSets it owns, one per pod template, and a
template change rolls the pods from the old ReplicaSets to the new one.

    deployments, replicasets, pods informers ── handlers: enqueue the owning deployment
                                                      │
    sync(namespace/name):  deployment from the lister (gone: nothing to do)
        empty selector: a SelectingAll warning, observedGeneration, no more
        claim ReplicaSets (adopt orphans matching the selector, release ours that no
            longer match), and group their pods by ReplicaSet
        being deleted: status only
        paused condition in step with spec.paused
        paused, or only spec.replicas changed: scale proportionally (deployment_sync)
        otherwise one step of the strategy: deployment_rolling or deployment_recreate
        status with observedGeneration, Available and Progressing (deployment_progress)

Guarantees: every read is from the listers except the one uncached read of the
deployment before adopting; each sync takes one step and writes status, and the
ReplicaSet updates it causes bring the next sync; a rollout with a progress deadline
is looked at again when the deadline passes, so ProgressDeadlineExceeded appears
without any other event. The ReplicaSets' own pods are the ReplicaSet loop's: this
loop only sizes ReplicaSets, never touches pods.

Not here: the deprecated rollback annotation of extensions/v1beta1 (`kubectl rollout
undo` patches the template itself), and deleting a Deployment's ReplicaSets with it
(the garbage collector's work).
"""

from __future__ import annotations

import logging

from kubelite.client.controller import Controller, PermanentError, TemporaryError
from kubelite.client.events import WARNING
from kubelite.client.resource import resolve
from kubelite.client.store import object_key, split_key
from kubelite.controllers.clock import Clock, utc_now
from kubelite.controllers.context import LoopContext
from kubelite.controllers.deployment_recreate import rollout_recreate
from kubelite.controllers.deployment_rolling import rollout_rolling
from kubelite.controllers.deployment_sync import DEPLOYMENTS, RS, DeploymentSync
from kubelite.controllers.pods import Obj, controller_of, meta
from kubelite.controllers.ref_manager import PodClaimer
from kubelite.controllers.replicaset import ORPHAN, OWNER_INDEX, owner_index
from kubelite.machinery import errors, labels

log = logging.getLogger(__name__)

WORKERS = 5  # upstream's ConcurrentDeploymentSyncs
COMPONENT = "deployment-controller"

class ReplicaSetClaimer(PodClaimer):
    """Adoption and release of ReplicaSets by a Deployment's selector (upstream's
    ReplicaSetControllerRefManager): the same rules as for pods."""

    resource = RS


class DeploymentLoop:
    def __init__(self, ctx: LoopContext, *, clock: Clock = utc_now) -> None:
        self.name = "deployment"
        self.client = ctx.client
        self.clock = clock
        self.recorder = ctx.recorder(COMPONENT)
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=WORKERS)
        self.deployments = ctx.informers.informer(DEPLOYMENTS)
        self.rss = ctx.informers.informer(RS, indexers={OWNER_INDEX: owner_index})
        self.pods = ctx.informers.informer("pods", indexers={OWNER_INDEX: owner_index})
        self.deployments.add_event_handler(
            on_add=self._enqueue, on_update=lambda old, new: self._enqueue(new),
            on_delete=self._enqueue)
        self.rss.add_event_handler(on_add=self._rs_added, on_update=self._rs_updated,
                                   on_delete=self._rs_deleted)
        self.pods.add_event_handler(on_delete=self._pod_deleted)

    async def run(self) -> None:
        await self.controller.run()

    # --- event handlers: enqueue the deployment ----------------------------------------

    def _enqueue(self, deployment: Obj) -> None:
        self.controller.enqueue(object_key(deployment))

    def _resolve(self, namespace: str, ref: Obj | None) -> Obj | None:
        if ref is None or ref.get("kind") != "Deployment":
            return None
        deployment = self.deployments.lister.get(namespace, str(ref.get("name") or ""))
        if deployment is None or meta(deployment).get("uid") != ref.get("uid"):
            return None
        return deployment

    def _matching(self, rs: Obj) -> list[Obj]:
        """Deployments whose selector matches an orphan ReplicaSet's labels."""
        rs_labels = meta(rs).get("labels") or {}
        out = []
        for deployment in self.deployments.lister.list(meta(rs).get("namespace")):
            try:
                selector = labels.selector_from_label_selector(
                    (deployment.get("spec") or {}).get("selector"))
            except errors.StatusError:
                continue
            if not selector.is_empty() and selector.matches(rs_labels):
                out.append(deployment)
        return out

    def _rs_added(self, rs: Obj) -> None:
        namespace = meta(rs).get("namespace", "")
        ref = controller_of(rs)
        if ref is not None:
            if (deployment := self._resolve(namespace, ref)) is not None:
                self._enqueue(deployment)
            return
        for deployment in self._matching(rs):
            self._enqueue(deployment)

    def _rs_updated(self, old: Obj, new: Obj) -> None:
        if meta(old).get("resourceVersion") == meta(new).get("resourceVersion"):
            return
        namespace = meta(new).get("namespace", "")
        old_ref, new_ref = controller_of(old), controller_of(new)
        if old_ref != new_ref and (owner := self._resolve(namespace, old_ref)) is not None:
            self._enqueue(owner)
        if new_ref is not None:
            if (owner := self._resolve(namespace, new_ref)) is not None:
                self._enqueue(owner)
            return
        if old_ref != new_ref or meta(old).get("labels") != meta(new).get("labels"):
            for deployment in self._matching(new):
                self._enqueue(deployment)

    def _rs_deleted(self, rs: Obj) -> None:
        if (owner := self._resolve(meta(rs).get("namespace", ""), controller_of(rs))) is not None:
            self._enqueue(owner)

    def _pod_deleted(self, pod: Obj) -> None:
        """A Recreate rollout waits for the old pods to be gone: look again when one goes."""
        namespace = meta(pod).get("namespace", "")
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.rss.lister.get(namespace, str(ref.get("name") or ""))
        if rs is None or meta(rs).get("uid") != ref.get("uid"):
            return
        deployment = self._resolve(namespace, controller_of(rs))
        if deployment is not None and ((deployment.get("spec") or {}).get("strategy")
                                       or {}).get("type") == "Recreate":
            self._enqueue(deployment)

    # --- sync ----------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.deployments.lister.get(namespace, name)
        if cached is None:
            return
        deployment = {**cached, "kind": "Deployment", "apiVersion": "apps/v1"}
        spec = deployment.get("spec") or {}
        try:
            selector = labels.selector_from_label_selector(spec.get("selector"))
        except errors.StatusError as err:
            raise PermanentError(f"invalid selector: {err}") from None
        if spec.get("selector") == {} or selector.is_empty():
            await self._selecting_all(deployment)
            return
        rs_list = await self._claim_replica_sets(deployment, selector)
        pods_by_rs = {str(meta(rs)["uid"]): self.pods.indexer.by_index(
            OWNER_INDEX, str(meta(rs)["uid"])) for rs in rs_list}
        s = DeploymentSync(self.client, self.recorder, deployment, rs_list, pods_by_rs,
                           self.clock, lambda delay: self.controller.enqueue_after(key, delay))
        try:
            await self._sync(s)
        except errors.NotFound:
            return  # deleted meanwhile
        except errors.Conflict as err:
            # our cache was behind a write: look again (with backoff), no alarm
            raise TemporaryError(str(err)) from None

    async def _sync(self, s: DeploymentSync) -> None:
        if meta(s.d).get("deletionTimestamp"):
            await s.all_rss_and_sync_revision(create=False)
            await s.sync_status()
            return
        await s.check_paused_conditions()
        if s.d["spec"].get("paused") or await s.is_scaling_event():
            await s.sync()
            return
        strategy = (s.d["spec"].get("strategy") or {}).get("type")
        if strategy == "Recreate":
            await rollout_recreate(s)
        elif strategy == "RollingUpdate":
            await rollout_rolling(s)
        else:
            raise PermanentError(f"unexpected deployment strategy type: {strategy}")

    async def _selecting_all(self, deployment: Obj) -> None:
        self.recorder.event(deployment, WARNING, "SelectingAll",
                            "This deployment is selecting all pods. A non-empty selector "
                            "is required.")
        status = deployment.get("status") or {}
        generation = int(meta(deployment).get("generation") or 0)
        if int(status.get("observedGeneration") or 0) < generation:
            body = {**deployment, "status": {**status, "observedGeneration": generation}}
            await self.client.update_status(DEPLOYMENTS, body,
                                            namespace=meta(deployment).get("namespace"))

    async def _claim_replica_sets(self, deployment: Obj,
                                  selector: labels.Selector) -> list[Obj]:
        m = meta(deployment)
        namespace, uid = str(m.get("namespace") or ""), str(m.get("uid") or "")
        candidates = [*self.rss.indexer.by_index(OWNER_INDEX, uid),
                      *self.rss.indexer.by_index(OWNER_INDEX, ORPHAN + namespace)]
        claimer = ReplicaSetClaimer(self.client, deployment, selector, lambda: self.client.get(
            resolve(DEPLOYMENTS), m["name"], namespace=namespace))
        return await claimer.claim(candidates)
