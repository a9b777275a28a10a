"""The controller manager: every enabled control loop under one Lease
kube-system/kube-controller-manager (upstream's cmd/kube-controller-manager/app).

    LeaderElector (Lease kube-system/kube-controller-manager)
        └─ while leading: SharedInformers ◀─ each enabled loop, built from LOOPS by name,
                                              asks for its informers, adds its handlers
                          start informers, wait for sync, then run every loop

Which loops run follows upstream's `--controllers`: a list of names where `*` means
every loop on by default, `name` turns one on and `-name` off; the first entry that
names a loop decides, so `--controllers=*,-replicaset` runs all but the ReplicaSet loop.
An unknown name is refused.

Each term of leadership starts from fresh informers and loops, so nothing stale outlives
a lost Lease; losing it cancels every loop. A loop that fails (a bug) is logged and
stops alone: the other loops go on.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence

from kubelite.client.leaderelection import LeaderElector
from kubelite.client.rest import Client
from kubelite.controllers.context import Loop, LoopContext
from kubelite.controllers.garbagecollector import GarbageCollectorLoop
from kubelite.controllers.informers import SharedInformers
from kubelite.controllers.nodeipam import NodeIpamLoop
from kubelite.controllers.nodelifecycle import NodeLifecycleLoop
from kubelite.controllers.bootstrapsigner import BootstrapSignerLoop
from kubelite.controllers.clusterroleaggregation import ClusterRoleAggregationLoop
from kubelite.controllers.cronjob import CronJobLoop
from kubelite.controllers.job import JobLoop
from kubelite.controllers.namespace import NamespaceLoop
from kubelite.controllers.podgc import PodGCLoop
from kubelite.controllers.localpath import LocalPathProvisionerLoop
from kubelite.controllers.persistentvolume import PersistentVolumeBinderLoop
from kubelite.controllers.podautoscaler import HorizontalLoop
from kubelite.controllers.csrapproving import CSRApprovingLoop
from kubelite.controllers.csrcleaner import CSRCleanerLoop
from kubelite.controllers.csrsigning import CSRSigningLoop
from kubelite.controllers.daemonset import DaemonSetLoop
from kubelite.controllers.deployment import DeploymentLoop
from kubelite.controllers.disruption import DisruptionLoop
from kubelite.controllers.endpoints import EndpointsLoop
from kubelite.controllers.endpointslice import EndpointSliceLoop
from kubelite.controllers.endpointslicemirroring import EndpointSliceMirroringLoop
from kubelite.controllers.replicaset import ReplicaSetLoop, replication_controller_loop
from kubelite.controllers.settings import LoopSettings
from kubelite.controllers.resourcequota import ResourceQuotaLoop
from kubelite.controllers.rootcacertpublisher import RootCACertPublisherLoop
from kubelite.controllers.serviceaccount import ServiceAccountLoop
from kubelite.controllers.statefulset import StatefulSetLoop
from kubelite.controllers.tainteviction import TaintEvictionLoop
from kubelite.controllers.tokencleaner import TokenCleanerLoop
from kubelite.controllers.ttlafterfinished import TTLAfterFinishedLoop

log = logging.getLogger(__name__)

LEASE_NAME = "kube-controller-manager"
FIELD_MANAGER = "kube-controller-manager"

LoopFactory = Callable[[LoopContext], Loop]

# Every loop by its upstream name. Add a loop here (and its name to names.py) and it runs.
LOOPS: dict[str, LoopFactory] = {
    "garbagecollector": GarbageCollectorLoop,
    "deployment": DeploymentLoop,
    "daemonset": DaemonSetLoop,
    "replicaset": ReplicaSetLoop,
    "replicationcontroller": replication_controller_loop,
    "statefulset": StatefulSetLoop,
    "serviceaccount": ServiceAccountLoop,
    "job": JobLoop,
    "cronjob": CronJobLoop,
    "ttl-after-finished": TTLAfterFinishedLoop,
    "endpoint": EndpointsLoop,
    "endpointslice": EndpointSliceLoop,
    "namespace": NamespaceLoop,
    "disruption": DisruptionLoop,
    "pod-garbage-collector": PodGCLoop,
    "persistentvolume-binder": PersistentVolumeBinderLoop,
    "local-path-provisioner": LocalPathProvisionerLoop,
    "resourcequota": ResourceQuotaLoop,
    "nodeipam": NodeIpamLoop,
    "nodelifecycle": NodeLifecycleLoop,
    "taint-eviction-controller": TaintEvictionLoop,
    "endpointslicemirroring": EndpointSliceMirroringLoop,
    "horizontalpodautoscaling": HorizontalLoop,
    "root-ca-cert-publisher": RootCACertPublisherLoop,
    "clusterrole-aggregation": ClusterRoleAggregationLoop,
    "tokencleaner": TokenCleanerLoop,
    "bootstrapsigner": BootstrapSignerLoop,
    "csrsigning": CSRSigningLoop,
    "csrapproving": CSRApprovingLoop,
    "csrcleaner": CSRCleanerLoop,
}
DISABLED_BY_DEFAULT: frozenset[str] = frozenset()


class UnknownController(ValueError):
    pass


def enabled_loops(controllers: Iterable[str] = ("*",)) -> list[str]:
    """The loops `controllers` (upstream's --controllers list) turns on, in LOOPS order."""
    wanted = [c.strip() for c in controllers if c.strip()]
    for entry in wanted:
        name = entry.removeprefix("-")
        if name != "*" and name not in LOOPS:
            raise UnknownController(f"{name!r} is not in the list of known controllers: "
                                    + ", ".join(sorted(LOOPS)))
    return [name for name in LOOPS if _is_enabled(name, wanted)]


def _is_enabled(name: str, controllers: Sequence[str]) -> bool:
    star = False
    for entry in controllers:
        if entry == name:
            return True
        if entry == f"-{name}":
            return False
        star = star or entry == "*"
    return star and name not in DISABLED_BY_DEFAULT


def default_identity() -> str:
    """hostname_uuid, as upstream names a controller manager in its Lease."""
    return f"{socket.gethostname()}_{uuid.uuid4()}"


class ControllerManager:
    def __init__(self, client: Client, *, controllers: Iterable[str] = ("*",),
                 identity: str | None = None, lease_namespace: str = "kube-system",
                 lease_duration: float = 15.0, renew_deadline: float = 10.0,
                 retry_period: float = 2.0, settings: LoopSettings | None = None) -> None:
        """`settings`: what the loops' flags tune (upstream's defaults when None)."""
        self.client = client
        self.settings = settings or LoopSettings()
        self.loop_names = enabled_loops(controllers)
        self.identity = identity or default_identity()
        self.elector = LeaderElector(
            client, name=LEASE_NAME, namespace=lease_namespace, identity=self.identity,
            on_started_leading=self._lead, lease_duration=lease_duration,
            renew_deadline=renew_deadline, retry_period=retry_period)
        self.loops: dict[str, Loop] = {}  # this term's, by name
        self._context: LoopContext | None = None
        self.leading = asyncio.Event()  # set once a term's informers have synced

    async def run(self) -> None:
        """Campaign for the Lease and run the loops while holding it; campaign again
        after losing it, until cancelled."""
        while True:
            await self.elector.run()
            log.warning("controller manager %s lost its lease; campaigning again",
                        self.identity)

    async def _lead(self) -> None:
        informers = SharedInformers(self.client)
        # no host on Events: upstream's controllers name only their component
        ctx = self._context = LoopContext(self.client, informers, settings=self.settings)
        self.loops = {name: LOOPS[name](ctx) for name in self.loop_names}
        try:
            informers.start()
            await informers.wait_for_sync()
            log.info("controller manager %s running %s", self.identity,
                     ", ".join(self.loops) or "no loops")
            self.leading.set()
            await asyncio.gather(*(self._run_loop(name, loop)
                                   for name, loop in self.loops.items()))
            await asyncio.Event().wait()  # every loop failed: keep the Lease, do nothing
        finally:
            self.leading.clear()
            await informers.stop()
            for recorder in ctx.recorders:
                await recorder.close()

    @staticmethod
    async def _run_loop(name: str, loop: Loop) -> None:
        try:
            await loop.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("controller %s stopped", name)

    async def wait_idle(self) -> None:
        """Wait until the Events the loops recorded so far are written (tests)."""
        for recorder in self._context.recorders if self._context else ():
            await recorder.wait_idle()
