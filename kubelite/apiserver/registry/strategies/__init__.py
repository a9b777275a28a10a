"""Per-kind strategies, keyed by (group, plural); kinds not listed use DefaultStrategy.

`STRATEGIES` serves the main resource, `STATUS_STRATEGIES` its `status` subresource and
`SUBRESOURCE_STRATEGIES` the other writable subresources ((group, plural, name):
namespaces/finalize, certificatesigningrequests/approval). Name rules per kind are in
`names.validate_name` / `names.name_causes`; the scale subresource helpers in `scale`.

Every kind listed here declares upstream's generation behaviour: `tracks_generation`
kinds get metadata.generation = 1 in prepare_for_create and bump it through
`bumps_generation`; the others never carry a generation and `bumps_generation` is False.
"""

from __future__ import annotations

from kubelite.apiserver.registry.strategy import Obj, Strategy

from .apiextensions import CustomResourceDefinitionStrategy
from .base import KindStatusStrategy, KindStrategy
from .batch import CronJobStrategy, JobStrategy
from .certificates import CertificateApprovalStrategy, CertificateSigningRequestStrategy
from .config import ConfigMapStrategy, EndpointsStrategy, EventStrategy, SecretStrategy
from .names import name_causes, validate_name
from .namespaces import NamespaceFinalizeStrategy, NamespaceStrategy, NodeStrategy
from .networking import IngressStrategy, NetworkPolicyStrategy
from .pods import PodStatusStrategy, PodStrategy
from .policy import (
    HorizontalPodAutoscalerStrategy,
    PodDisruptionBudgetStrategy,
    PriorityClassStrategy,
)
from .rbac import ClusterRoleBindingStrategy, ClusterRoleStrategy, RoleBindingStrategy, RoleStrategy
from .scale import SCALABLE, apply_scale, scale_of, validate_scale
from .services import ServiceStrategy
from .storage import PersistentVolumeClaimStrategy, PersistentVolumeStrategy, StorageClassStrategy
from .workloads import (
    DaemonSetStrategy,
    DeploymentStrategy,
    ReplicaSetStrategy,
    ReplicationControllerStrategy,
    StatefulSetStrategy,
)


class _Plain(KindStrategy):
    """No defaults or rules, and no generation (ServiceAccount, Lease, LimitRange...)."""


class _PlainWithStatus(KindStrategy):
    has_status = True


class _Generational(KindStrategy):
    tracks_generation = True


class _GenerationalWithStatus(KindStrategy):
    has_status = True
    tracks_generation = True


class _EndpointSlice(KindStrategy):
    tracks_generation = True
    spec_keys = ("endpoints", "ports", "addressType")


class _WebhookConfiguration(KindStrategy):
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
    ("", "serviceaccounts"): _Plain(),
    ("", "limitranges"): _Plain(),
    ("", "podtemplates"): _Plain(),
    ("", "resourcequotas"): _PlainWithStatus(),
    ("", "persistentvolumes"): PersistentVolumeStrategy(),
    ("", "persistentvolumeclaims"): PersistentVolumeClaimStrategy(),
    ("", "replicationcontrollers"): ReplicationControllerStrategy(),
    ("apps", "deployments"): DeploymentStrategy(),
    ("apps", "replicasets"): ReplicaSetStrategy(),
    ("apps", "statefulsets"): StatefulSetStrategy(),
    ("apps", "daemonsets"): DaemonSetStrategy(),
    ("apps", "controllerrevisions"): _Plain(),
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
    ("coordination.k8s.io", "leases"): _Plain(),
    ("storage.k8s.io", "storageclasses"): StorageClassStrategy(),
    ("rbac.authorization.k8s.io", "roles"): RoleStrategy(),
    ("rbac.authorization.k8s.io", "clusterroles"): ClusterRoleStrategy(),
    ("rbac.authorization.k8s.io", "rolebindings"): RoleBindingStrategy(),
    ("rbac.authorization.k8s.io", "clusterrolebindings"): ClusterRoleBindingStrategy(),
    ("certificates.k8s.io", "certificatesigningrequests"): CertificateSigningRequestStrategy(),
    ("admissionregistration.k8s.io", "validatingwebhookconfigurations"): _WebhookConfiguration(),
    ("admissionregistration.k8s.io", "mutatingwebhookconfigurations"): _WebhookConfiguration(),
    ("apiextensions.k8s.io", "customresourcedefinitions"): CustomResourceDefinitionStrategy(),
}

STATUS_STRATEGIES: dict[tuple[str, str], Strategy] = {
    key: (PodStatusStrategy(main) if key == ("", "pods") else KindStatusStrategy(main))
    for key, main in STRATEGIES.items()
    if getattr(main, "has_status", False)
}

SUBRESOURCE_STRATEGIES: dict[tuple[str, str, str], Strategy] = {
    ("", "namespaces", "finalize"): NamespaceFinalizeStrategy(STRATEGIES[("", "namespaces")]),
    ("certificates.k8s.io", "certificatesigningrequests", "approval"): CertificateApprovalStrategy(
        STRATEGIES[("certificates.k8s.io", "certificatesigningrequests")]),
}

__all__ = [
    "SCALABLE", "STATUS_STRATEGIES", "STRATEGIES", "SUBRESOURCE_STRATEGIES", "apply_scale",
    "name_causes", "scale_of", "validate_name", "validate_scale",
]
