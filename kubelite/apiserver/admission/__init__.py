"""Admission: the checks and changes every write passes besides its kind's strategy
(plugin/pkg/admission upstream). The interfaces are `chain.py`; each plugin is one
module; `default_chain` lists the plugins kubelite runs, in upstream's order
(kubeapiserver/options/plugins.go AllOrderedPlugins).

| plugin | phase | does |
|---|---|---|
| NamespaceLifecycle | admit | no creates in a missing or terminating namespace |
| LimitRanger | admit, validate | LimitRange defaults for new pods' containers; min, max and ratio bounds on pods and claims |
| ServiceAccount | admit, validate | new pods run as an existing ServiceAccount (`default` unless named), with the kube-api-access-* token volume mounted and the account's imagePullSecrets; off unless asked for (`service_account=True`) |
| NodeRestriction | admit | a kubelet (`system:node:<name>`) writes only its own Node, mirror pods, pod statuses and evictions, Lease, tokens and CSRs; added by `kubelite server` (`Chain.add_mutating`, `node_restriction.py`) |
| Priority | admit | a new pod's priority from its PriorityClass |
| DefaultTolerationSeconds | admit | pods tolerate not-ready/unreachable nodes for 300 s unless they say otherwise |
| DefaultStorageClass | admit | a new claim naming no class gets the default StorageClass |
| ServiceAddresses | validate | a Service's ClusterIP and NodePorts from the pools |
| CertificateSubjectRestriction | validate | no kube-apiserver-client CertificateSigningRequest in system:masters |
| ResourceQuota | validate | refuses writes over a namespace's quotas, charges the rest to status.used |
"""

from __future__ import annotations

from kubelite.apiserver.admission.chain import (
    Attributes,
    Chain,
    Finish,
    MutatingPlugin,
    Operation,
    ValidatingPlugin,
)
from kubelite.apiserver.admission.certificate_subject import CertificateSubjectRestriction
from kubelite.apiserver.admission.default_storage_class import DefaultStorageClass
from kubelite.apiserver.admission.default_tolerations import (
    DEFAULT_TOLERATION_SECONDS,
    DefaultTolerationSeconds,
)
from kubelite.apiserver.admission.lifecycle import NamespaceLifecycle
from kubelite.apiserver.admission.limitranger import LimitRanger
from kubelite.apiserver.admission.priority import Priority
from kubelite.apiserver.admission.resourcequota import ResourceQuota
from kubelite.apiserver.admission.service_account import ServiceAccount
from kubelite.apiserver.admission.service_addresses import ServiceAddresses
from kubelite.apiserver.admission.stores import Stores
from kubelite.apiserver.registry.allocators import ServiceAllocator
from kubelite.apiserver.watchcache import Cache


def default_chain(*, stores: Stores, cache: Cache, allocator: ServiceAllocator,
                  not_ready_toleration_seconds: int = DEFAULT_TOLERATION_SECONDS,
                  unreachable_toleration_seconds: int = DEFAULT_TOLERATION_SECONDS,
                  service_account: bool = False) -> Chain:
    """The chain every server runs. The ServiceAddresses plugin also listens to the
    cache, to give back what deleted Services held. ResourceQuota validates last, as
    upstream orders it: only a write every other plugin passed is charged.
    `service_account`: run the ServiceAccount plugin, which refuses pods until a
    serviceaccount control loop has made their namespace's `default` account; a
    server without one (tests of the API alone) leaves it out."""
    addresses = ServiceAddresses(stores=stores, allocator=allocator)
    cache.add_listener(addresses.on_event)
    limit_ranger = LimitRanger(stores=stores, cache=cache)
    accounts = [ServiceAccount(stores=stores, cache=cache)] if service_account else []
    return Chain(
        mutating=[NamespaceLifecycle(stores=stores), limit_ranger, *accounts,
                  Priority(stores=stores, cache=cache),
                  DefaultTolerationSeconds(not_ready_seconds=not_ready_toleration_seconds,
                                           unreachable_seconds=unreachable_toleration_seconds),
                  DefaultStorageClass(stores=stores, cache=cache)],
        validating=[limit_ranger, *accounts, addresses, CertificateSubjectRestriction(),
                    ResourceQuota(stores=stores, cache=cache)])


__all__ = ["DEFAULT_TOLERATION_SECONDS", "Attributes", "Chain", "Finish", "MutatingPlugin",
           "Operation", "ValidatingPlugin", "default_chain"]
