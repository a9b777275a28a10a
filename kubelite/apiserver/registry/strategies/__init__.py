"""Per-kind strategies, keyed by (group, plural); kinds not listed use DefaultStrategy.

`STRATEGIES` holds one strategy per kind; the strategies of its writable subresources
(status, scale's workload, namespaces/finalize, certificatesigningrequests/approval,
pods/binding) come from each one's `subresource_strategies`. Everything the generic
store asks of a kind is an attribute or method of its strategy (registry/strategy.py):
names, defaults, validation, create-on-update, what a DELETE answers, grace periods.

Every kind listed here declares upstream's generation behaviour: `tracks_generation`
kinds get metadata.generation = 1 in prepare_for_create and bump it through
`bumps_generation`; the others never carry a generation and `bumps_generation` is False.
"""

from __future__ import annotations

from kubelite.api.catalogue import ResourceSpec
from kubelite.apiserver.registry.strategy import DefaultStrategy, Obj, Strategy

from .apiextensions import CustomResourceDefinitionStrategy
from .batch import CronJobStrategy, JobStrategy
from .certificates import CertificateSigningRequestStrategy
from .config import (
    ConfigMapStrategy,
    EndpointsStrategy,
    EventStrategy,
    LeaseStrategy,
    LimitRangeStrategy,
    PodTemplateStrategy,
    ResourceQuotaStrategy,
    SecretStrategy,
    ServiceAccountStrategy,
)
from .namespaces import NamespaceStrategy, NodeStrategy
from .networking import IngressStrategy, NetworkPolicyStrategy
from .pods import PodStrategy
from .policy import (
    HorizontalPodAutoscalerStrategy,
    PodDisruptionBudgetStrategy,
    PriorityClassStrategy,
)
from .rbac import ClusterRoleBindingStrategy, ClusterRoleStrategy, RoleBindingStrategy, RoleStrategy
from .services import ServiceStrategy
from .storage import (
    CSIStrategy,
    PersistentVolumeClaimStrategy,
    PersistentVolumeStrategy,
    StorageClassStrategy,
)
from .workloads import (
    DaemonSetStrategy,
    DeploymentStrategy,
    ReplicaSetStrategy,
    ReplicationControllerStrategy,
    StatefulSetStrategy,
)


class _Generational(DefaultStrategy):
    tracks_generation = True


class _GenerationalWithStatus(DefaultStrategy):
    has_status = True
    tracks_generation = True


class _EndpointSlice(DefaultStrategy):
    tracks_generation = True
    spec_keys = ("endpoints", "ports", "addressType")


class _WebhookConfiguration(DefaultStrategy):
    tracks_generation = True
    spec_keys = ("webhooks",)


STRATEGIES: dict[tuple[str, str], Strategy] = {
    ("", "pods"): PodStrategy(),
    ("", "services"): ServiceStrategy(),
    ("", "namespaces"): NamespaceStrategy(),
    ("", "nodes"): NodeStrategy(),
    ("", "secrets"): SecretStrategy(),
    ("", "configmaps"): ConfigMapStrategy(),
    ("", "events"): EventStrategy(),
    ("", "endpoints"): EndpointsStrategy(),
    ("", "serviceaccounts"): ServiceAccountStrategy(),
    ("", "limitranges"): LimitRangeStrategy(),
    ("", "podtemplates"): PodTemplateStrategy(),
    ("", "resourcequotas"): ResourceQuotaStrategy(),
    ("", "persistentvolumes"): PersistentVolumeStrategy(),
    ("", "persistentvolumeclaims"): PersistentVolumeClaimStrategy(),
    ("", "replicationcontrollers"): ReplicationControllerStrategy(),
    ("apps", "deployments"): DeploymentStrategy(),
    ("apps", "replicasets"): ReplicaSetStrategy(),
    ("apps", "statefulsets"): StatefulSetStrategy(),
    ("apps", "daemonsets"): DaemonSetStrategy(),
    ("apps", "controllerrevisions"): DefaultStrategy(),
    ("batch", "jobs"): JobStrategy(),
    ("batch", "cronjobs"): CronJobStrategy(),
    ("autoscaling", "horizontalpodautoscalers"): HorizontalPodAutoscalerStrategy(),
    ("policy", "poddisruptionbudgets"): PodDisruptionBudgetStrategy(),
    ("scheduling.k8s.io", "priorityclasses"): PriorityClassStrategy(),
    ("networking.k8s.io", "ingresses"): IngressStrategy(),
    ("networking.k8s.io", "ingressclasses"): _Generational(),
    ("networking.k8s.io", "networkpolicies"): NetworkPolicyStrategy(),
    ("discovery.k8s.io", "endpointslices"): _EndpointSlice(),
    ("events.k8s.io", "events"): EventStrategy(),
    ("coordination.k8s.io", "leases"): LeaseStrategy(),
    ("storage.k8s.io", "storageclasses"): StorageClassStrategy(),
    ("storage.k8s.io", "csidrivers"): CSIStrategy(),
    ("storage.k8s.io", "csinodes"): CSIStrategy(),
    ("storage.k8s.io", "volumeattachments"): CSIStrategy(),
    ("rbac.authorization.k8s.io", "roles"): RoleStrategy(),
    ("rbac.authorization.k8s.io", "clusterroles"): ClusterRoleStrategy(),
    ("rbac.authorization.k8s.io", "rolebindings"): RoleBindingStrategy(),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): ClusterRoleBindingStrategy(),
    ("certificates.k8s.io", "certificatesigningrequests"): CertificateSigningRequestStrategy(),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): _WebhookConfiguration(),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): _WebhookConfiguration(),
    ("apiextensions.k8s.io", "customresourcedefinitions"): CustomResourceDefinitionStrategy(),
}


def strategy_for(spec: ResourceSpec) -> Strategy:
    """A built-in resource's strategy. An alias (events.k8s.io events) stores as, and
    so behaves as, the kind it aliases."""
    return STRATEGIES.get(spec.storage_alias or (spec.group, spec.plural)) or DefaultStrategy()


__all__ = ["STRATEGIES", "strategy_for"]
