"""The table of served resources.

`Registry` owns one `Store` per resource (built-ins from the catalogue, custom
resources as their CRDs are established), each with its kind's strategy and that
strategy's subresource strategies, and the one admission chain every store runs
(apiserver/admission: namespaces must exist and not be terminating, pods get their
priority, Services their ClusterIPs and NodePorts).
"""

from __future__ import annotations

from kubelite.api.catalogue import RESOURCES, ResourceSpec
from kubelite.apiserver import admission
from kubelite.apiserver.registry import allocators
from kubelite.apiserver.registry.store import Store
from kubelite.apiserver.registry.strategies import strategy_for
from kubelite.apiserver.registry.strategy import METADATA_FIELDS, Strategy
from kubelite.apiserver.watchcache import Cache
from kubelite.storage.backend import Backend


class Registry:
    def __init__(self, *, backend: Backend, cache: Cache,
                 service_cidr: str = allocators.DEFAULT_SERVICE_CIDR,
                 has_gc: bool = False,
                 toleration_seconds: tuple[int, int] = (admission.DEFAULT_TOLERATION_SECONDS,
                                                        admission.DEFAULT_TOLERATION_SECONDS),
                 service_account_admission: bool = False,
                 ) -> None:
        """`toleration_seconds`: how long pods tolerate a not-ready and an unreachable
        node unless they say (DefaultTolerationSeconds admission).
        `service_account_admission`: run the ServiceAccount admission plugin."""
        self.backend = backend
        self.cache = cache
        self.stores: dict[tuple[str, str], Store] = {}
        self.services = allocators.ServiceAllocator(backend=backend, cache=cache,
                                                    cidr=service_cidr)
        # Whether a garbage collector runs: only then do deletes with propagation Orphan
        # or Foreground get the orphan / foregroundDeletion finalizer, which nothing else
        # would ever remove. Upstream always assumes one; kubelite is told by whoever
        # starts the server (`kubelite server` when it runs the garbagecollector loop).
        self.has_gc = has_gc
        self.admission = admission.default_chain(stores=self, cache=cache,
                                                 allocator=self.services,
                                                 not_ready_toleration_seconds=toleration_seconds[0],
                                                 unreachable_toleration_seconds=toleration_seconds[1],
                                                 service_account=service_account_admission)
        for spec in RESOURCES:
            self.add(spec)

    # -- resources ---------------------------------------------------------------

    def add(self, spec: ResourceSpec, strategy: Strategy | None = None) -> Store:
        strategy = strategy or strategy_for(spec)
        subresources = {name: sub for name, sub in strategy.subresource_strategies().items()
                        if name in spec.subresources}
        store = Store(spec, backend=self.backend, cache=self.cache, strategy=strategy,
                      subresource_strategies=subresources, admission=self.admission,
                      registry=self)
        self.stores[(spec.group, spec.plural)] = store
        if store.field_names != METADATA_FIELDS:
            self.cache.set_field_extractor(store.prefix, strategy.selectable_fields)
        return store

    def remove(self, group: str, plural: str) -> None:
        self.stores.pop((group, plural), None)

    def lookup(self, group: str, version: str, plural: str) -> Store | None:
        store = self.stores.get((group, plural))
        if store is None or version not in store.spec.versions:
            return None
        return store

    def store_for(self, group: str, plural: str) -> Store:
        return self.stores[(group, plural)]

    def specs(self) -> list[ResourceSpec]:
        return [s.spec for s in self.stores.values()]
