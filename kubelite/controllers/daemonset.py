"""The DaemonSet loop (upstream's pkg/controller/daemon: daemon_controller.go, update.go).

    daemonsets, pods, nodes, controllerrevisions informers
        handlers: observe expectations, enqueue the owning DaemonSet (a node change
        enqueues every DaemonSet: eligibility may have changed)
    sync(namespace/name):  DaemonSet from the lister (gone: forget expectations)
        current ControllerRevision and hash (daemonset_history)
        claim pods; map them to nodes by nodeName or their metadata.name node affinity
        expectations satisfied and not being deleted?
            per node (daemonset_rules.should_run):
                should run, no pod: create one (pinned by node affinity; the scheduler binds)
                should continue: delete failed pods (per-node back-off, daemonset_backoff),
                                 keep the oldest of several
                neither: delete its pods
            pods whose node is gone: deleted
            nothing to create or delete and RollingUpdate: replace old pods
            (daemonset_rolling), maxUnavailable / maxSurge
        status from nodes and pods, written if changed, with observedGeneration

Guarantees: a sync never creates or deletes on a cache that has not seen its last
writes (expectations); a pod counts for one DaemonSet (its controller ownerReference);
a daemon pod never names its node itself, so the scheduler's admission still applies.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections import defaultdict

from kubelite.client.controller import Controller, PermanentError
from kubelite.client.events import WARNING
from kubelite.client.store import object_key, split_key
from kubelite.controllers.context import LoopContext
from kubelite.controllers.daemonset_backoff import FailedPodBackoff
from kubelite.controllers.daemonset_history import (
    HASH_LABEL, REVISIONS, clean_history, current_revision)
from kubelite.controllers.daemonset_rolling import (
    NodePods, rolling_update_step, surge, surge_excess)
from kubelite.controllers.daemonset_rules import (
    daemon_pod_template, eligibility_pod, should_run, target_node)
from kubelite.controllers.daemonset_status import calculate_status, update_status
from kubelite.controllers.expectations import ControllerExpectations
from kubelite.controllers.pod_control import PodControl, namespace_terminating
from kubelite.controllers.pods import Obj, controller_of, meta, pod_key
from kubelite.controllers.ref_manager import PodClaimer, adopt_orphan_revisions
from kubelite.controllers.replicaset import ORPHAN, OWNER_INDEX, owner_index
from kubelite.machinery import errors, labels

log = logging.getLogger(__name__)

NAME = "daemonset"
RESOURCE = "daemonsets.apps"
COMPONENT = "daemonset-controller"
WORKERS = 2  # upstream's ConcurrentDaemonSetSyncs
FAILED_DAEMON_POD = "FailedDaemonPod"
SELECTING_ALL = "SelectingAll"


def _selector(ds: Obj) -> labels.Selector:
    return labels.selector_from_label_selector((ds.get("spec") or {}).get("selector"))


def _by_age(pod: Obj) -> tuple[str, str]:
    return str(meta(pod).get("creationTimestamp") or ""), str(meta(pod).get("name") or "")


class DaemonSetLoop:
    def __init__(self, ctx: LoopContext) -> None:
        self.name = NAME
        self.client = ctx.client
        self.recorder = ctx.recorder(COMPONENT)
        self.expectations = ControllerExpectations()
        self.failed_backoff = FailedPodBackoff()
        self.pod_control = PodControl(ctx.client, self.recorder)
        self.controller: Controller[str] = Controller(NAME, self.sync, workers=WORKERS)
        self.sets = ctx.informers.informer(RESOURCE)
        self.pods = ctx.informers.informer("pods", indexers={OWNER_INDEX: owner_index})
        self.nodes = ctx.informers.informer("nodes")
        self.revisions = ctx.informers.informer(REVISIONS,
                                                indexers={OWNER_INDEX: owner_index})
        self.sets.add_event_handler(on_add=self._enqueue, on_update=self._set_updated,
                                    on_delete=self._set_deleted)
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated,
                                    on_delete=self._pod_deleted)
        self.nodes.add_event_handler(on_add=self._node_changed,
                                     on_update=self._node_updated,
                                     on_delete=self._node_changed)

    async def run(self) -> None:
        await self.controller.run()

    # --- event handlers: observe, enqueue ------------------------------------------

    def _enqueue(self, ds: Obj) -> None:
        self.controller.enqueue(object_key(ds))

    def _set_updated(self, old: Obj, new: Obj) -> None:
        if meta(old).get("uid") != meta(new).get("uid"):
            self._set_deleted(old)
        self._enqueue(new)

    def _set_deleted(self, ds: Obj) -> None:
        self.expectations.forget(object_key(ds))
        self.failed_backoff.forget_prefix(f"{meta(ds).get('uid')}/")
        self._enqueue(ds)

    def _owner_key(self, pod: Obj) -> str | None:
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "DaemonSet":
            return None
        ds = self.sets.lister.get(meta(pod).get("namespace", ""), str(ref.get("name") or ""))
        if ds is None or meta(ds).get("uid") != ref.get("uid"):
            return None
        return object_key(ds)

    def _pod_added(self, pod: Obj) -> None:
        if meta(pod).get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.controller.enqueue(key)
        elif controller_of(pod) is None:
            self._enqueue_matching(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if meta(old).get("resourceVersion") == meta(new).get("resourceVersion"):
            return
        if meta(new).get("deletionTimestamp"):
            self._pod_deleted(new)
            return
        key = self._owner_key(new)
        if key is not None:
            self.controller.enqueue(key)
            min_ready = int(((self.sets.lister.get(*split_key(key)) or {}).get("spec") or {})
                            .get("minReadySeconds") or 0)
            if min_ready > 0:
                self.controller.enqueue_after(key, min_ready + 1)
        elif controller_of(new) is None:
            self._enqueue_matching(new)
        if (old_key := self._owner_key(old)) is not None and old_key != key:
            self.controller.enqueue(old_key)

    def _pod_deleted(self, pod: Obj) -> None:
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, pod_key(pod))
            self.controller.enqueue(key)

    def _enqueue_matching(self, pod: Obj) -> None:
        pod_labels = meta(pod).get("labels") or {}
        for ds in self.sets.lister.list(meta(pod).get("namespace")):
            try:
                if pod_labels and _selector(ds).matches(pod_labels):
                    self._enqueue(ds)
            except errors.StatusError:
                continue

    def _node_changed(self, node: Obj) -> None:
        for ds in self.sets.lister.list():
            self._enqueue(ds)

    def _node_updated(self, old: Obj, new: Obj) -> None:
        # upstream's shouldIgnoreNodeUpdate: only labels, taints and conditions matter
        def relevant(node: Obj) -> tuple[object, ...]:
            return (meta(node).get("labels"), (node.get("spec") or {}).get("taints"),
                    [(c.get("type"), c.get("status"))
                     for c in (node.get("status") or {}).get("conditions") or ()])
        if relevant(old) != relevant(new):
            self._node_changed(new)

    # --- sync ---------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        namespace, name = split_key(key)
        cached = self.sets.lister.get(namespace, name)
        if cached is None:
            self.expectations.forget(key)
            return
        ds = {**cached, "kind": "DaemonSet", "apiVersion": "apps/v1"}
        try:
            selector = _selector(ds)
        except errors.StatusError as err:
            raise PermanentError(f"invalid selector: {err}") from None
        if selector.is_empty():
            self.recorder.event(ds, WARNING, SELECTING_ALL,
                                "This daemon set is selecting all pods. "
                                "A non-empty selector is required.")
            return
        if meta(ds).get("deletionTimestamp"):
            return  # as upstream: no history, pods or status for a DaemonSet on its way out
        uid = str(meta(ds).get("uid") or "")
        # orphan revisions first: a DaemonSet recreated after Orphan propagation must
        # find its pods' revision, not take its name for a hash collision and roll them
        adopted = await adopt_orphan_revisions(
            self.client, ds, selector, lambda: self.client.get(RESOURCE, name, namespace=namespace),
            list(self.revisions.indexer.by_index(OWNER_INDEX, ORPHAN + namespace)))
        revisions = [*self.revisions.indexer.by_index(OWNER_INDEX, uid), *adopted]
        hash_, current = await current_revision(self.client, ds, revisions)
        node_pods = await self._node_pods(ds, selector)
        nodes = {meta(n)["name"]: n for n in self.nodes.lister.list()}
        manage_error: Exception | None = None
        if self.expectations.satisfied(key) and not meta(ds).get("deletionTimestamp"):
            try:
                await self._manage(key, ds, nodes, node_pods, hash_)
            except (errors.StatusError, ValueError) as err:
                manage_error = err
            in_use = {(meta(p).get("labels") or {}).get(HASH_LABEL, "")
                      for pods in node_pods.values() for p in pods}
            await clean_history(self.client, ds, revisions, meta(current)["name"], in_use)
        now = datetime.datetime.now(datetime.UTC)
        template = (ds.get("spec") or {}).get("template") or {}
        status = calculate_status(ds, nodes, node_pods, hash_, now,
                                  lambda n: should_run(n, eligibility_pod(template,
                                                                          meta(n)["name"])))
        try:
            await update_status(self.client, ds, status)
        except errors.NotFound:
            return
        if manage_error is not None:
            raise manage_error

    async def _node_pods(self, ds: Obj, selector: labels.Selector) -> NodePods:
        """The DaemonSet's pods (claimed) by the node they are on or pinned to."""
        namespace, uid = meta(ds)["namespace"], str(meta(ds).get("uid") or "")
        candidates = [p for p in (*self.pods.indexer.by_index(OWNER_INDEX, uid),
                                  *self.pods.indexer.by_index(OWNER_INDEX, ORPHAN + namespace))
                      if not meta(p).get("deletionTimestamp")]
        claimer = PodClaimer(self.client, ds, selector, lambda: self.client.get(
            RESOURCE, meta(ds)["name"], namespace=namespace))
        by_node: NodePods = defaultdict(list)
        for pod in await claimer.claim(candidates):
            node = target_node(pod)
            if node is not None:
                by_node[node].append(pod)
        for pods in by_node.values():
            pods.sort(key=_by_age)
        return by_node

    async def _manage(self, key: str, ds: Obj, nodes: dict[str, Obj], node_pods: NodePods,
                      hash_: str) -> None:
        template = (ds.get("spec") or {}).get("template") or {}
        eligible = {name: should_run(node, eligibility_pod(template, name))
                    for name, node in nodes.items()}
        desired = sum(1 for run, _ in eligible.values() if run)
        surging = surge(ds, desired) > 0
        now = datetime.datetime.now(datetime.UTC)
        create: list[str] = []
        delete: list[Obj] = []
        for name, (run, keep) in eligible.items():
            pods = node_pods.get(name, [])
            if run and not pods:
                create.append(name)
            elif keep:
                running = []
                for pod in pods:
                    if (pod.get("status") or {}).get("phase") == "Failed":
                        backoff_key = f"{meta(ds).get('uid')}/{name}"
                        if (wait := self.failed_backoff.remaining(backoff_key)) > 0:
                            self.controller.enqueue_after(key, wait)
                            continue
                        self.failed_backoff.next(backoff_key)
                        self.recorder.event(ds, WARNING, FAILED_DAEMON_POD,
                                            f"Found failed daemon pod {pod_key(pod)} on node "
                                            f"{name}, will try to kill it")
                        delete.append(pod)
                    else:
                        running.append(pod)
                if len(running) > 1 and not surging:
                    delete.extend(running[1:])  # keep the oldest
                elif len(running) > 1:
                    delete.extend(surge_excess(ds, running, hash_, now))
            else:
                delete.extend(pods)
        for name, pods in node_pods.items():
            if name not in nodes:
                delete.extend(pods)  # their node is gone
        if not create and not delete:
            delete, create = rolling_update_step(ds, desired, node_pods, hash_, now,
                                                 lambda n: eligible.get(n, (False, False))[0])
        await self._write(key, ds, template, hash_, create, delete)

    async def _write(self, key: str, ds: Obj, template: Obj, hash_: str, create: list[str],
                     delete: list[Obj]) -> None:
        if not create and not delete:
            return
        self.expectations.expect(key, len(create), [pod_key(p) for p in delete])

        async def create_one(node: str) -> None:
            pod_template = daemon_pod_template(template, node)
            pod_template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = hash_
            try:
                await self.pod_control.create_pod(ds, pod_template)
            except errors.StatusError as err:
                self.expectations.creation_observed(key)
                if not namespace_terminating(err):
                    raise

        async def delete_one(pod: Obj) -> None:
            try:
                await self.pod_control.delete_pod(ds, meta(pod)["namespace"], meta(pod)["name"])
            except errors.StatusError as err:
                self.expectations.deletion_observed(key, pod_key(pod))
                if not isinstance(err, errors.NotFound):
                    raise

        outcomes = await asyncio.gather(*(create_one(n) for n in create),
                                        *(delete_one(p) for p in delete),
                                        return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome

