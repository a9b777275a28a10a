"""The resource catalogue: every built-in kind kubelite serves, as data.

One row per resource drives routing, discovery, OpenAPI, the client and the CLI, the
way kube-apiserver's storage map and discovery documents do. A row says what upstream
discovery says (`kubectl api-resources -o wide` on a 1.35 cluster): group, versions,
plural, singular, scope, short names, categories, verbs and subresources. Short names
and categories are the ones upstream's REST storages return from `ShortNames()` and
`Categories()` (pkg/registry/<group>/<resource>/storage/storage.go).

Subresources list only what kubelite serves (status, scale, binding, finalize,
approval, token); upstream serves more (pods/log, pods/exec, ...), which the API server adds
as it learns them.

Group order follows kube-apiserver's APIService priorities
(pkg/controlplane/apiserver/aggregator.go and its kube-specific table): `/apis` lists
groups by descending priority, ties broken by name, and each group lists its versions
preferred first. Custom resource groups come after every built-in group, as upstream's
CRD registration gives them the lowest priority.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
# Namespaces have no deletecollection upstream: deleting every namespace at once is
# too dangerous to offer.
NO_COLLECTION_DELETE = ("create", "delete", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, slots=True)
class GVK:
    group: str
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    group: str
    versions: tuple[str, ...]  # served versions; the first is the preferred and storage one
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    subresources: tuple[str, ...] = ()  # "status", "scale", "binding", ...
    singular: str = ""  # defaults to kind.lower()
    # For custom resources: the CRD's openAPIV3Schema per version, else None (built-ins
    # take their schema from kubelite.api.schemas by group/version/kind).
    crd_schemas: dict[str, dict[str, Any]] | None = field(default=None, compare=False, hash=False)
    # (group, plural) of another resource whose stored objects this one serves under a
    # different group: events.k8s.io/v1 events are the core/v1 events, as upstream.
    storage_alias: tuple[str, str] | None = None
    # For custom resources: additionalPrinterColumns per version, and the scale
    # subresource's paths (specReplicasPath, statusReplicasPath, labelSelectorPath).
    printer_columns: dict[str, list[dict[str, Any]]] | None = field(default=None, compare=False,
                                                          hash=False)
    scale_paths: dict[str, str] | None = field(default=None, compare=False, hash=False)

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def storage_version(self) -> str:
        return self.versions[0]

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def group_resource(self) -> str:
        """`deployments.apps`, `pods`: how upstream names a resource in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def gvk(self, version: str | None = None) -> GVK:
        return GVK(self.group, version or self.storage_version, self.kind)

    def key_prefix(self) -> str:
        """Storage key prefix; objects live at <prefix><namespace>/<name> or <prefix><name>.
        A resource with a storage alias lives where the aliased resource does."""
        group, plural = self.storage_alias or (self.group, self.plural)
        return f"/registry/{group or 'core'}/{plural}/"


def _r(group: str, kind: str, plural: str, *, versions: tuple[str, ...] = ("v1",),
       namespaced: bool = True, short: tuple[str, ...] = (), all_: bool = False,
       api_ext: bool = False, verbs: tuple[str, ...] = ALL_VERBS,
       sub: tuple[str, ...] = (), alias: tuple[str, str] | None = None) -> ResourceSpec:
    categories = ("all",) if all_ else ("api-extensions",) if api_ext else ()
    return ResourceSpec(group, versions, kind, plural, namespaced=namespaced,
                        short_names=short, categories=categories, verbs=verbs,
                        subresources=sub, storage_alias=alias)


_STATUS = ("status",)
_SCALE = ("status", "scale")

RESOURCES: tuple[ResourceSpec, ...] = (
    # core/v1
    _r("", "Pod", "pods", short=("po",), all_=True, sub=("status", "binding", "eviction")),
    _r("", "Service", "services", short=("svc",), all_=True, sub=_STATUS),
    _r("", "Endpoints", "endpoints", short=("ep",)),
    _r("", "Namespace", "namespaces", namespaced=False, short=("ns",),
       verbs=NO_COLLECTION_DELETE, sub=("status", "finalize")),
    _r("", "Node", "nodes", namespaced=False, short=("no",), sub=_STATUS),
    _r("", "ConfigMap", "configmaps", short=("cm",)),
    _r("", "Secret", "secrets"),
    _r("", "ServiceAccount", "serviceaccounts", short=("sa",), sub=("token",)),
    _r("", "PersistentVolume", "persistentvolumes", namespaced=False, short=("pv",), sub=_STATUS),
    _r("", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), sub=_STATUS),
    _r("", "Event", "events", short=("ev",)),
    _r("", "LimitRange", "limitranges", short=("limits",)),
    _r("", "ResourceQuota", "resourcequotas", short=("quota",), sub=_STATUS),
    _r("", "ReplicationController", "replicationcontrollers", short=("rc",), all_=True,
       sub=_SCALE),
    _r("", "PodTemplate", "podtemplates"),
    # apiregistration.k8s.io/v1: the APIServices of aggregated groups (metrics.k8s.io),
    # first in /apis as on a real cluster
    _r("apiregistration.k8s.io", "APIService", "apiservices", namespaced=False, api_ext=True,
       sub=_STATUS),
    # apps/v1
    _r("apps", "Deployment", "deployments", short=("deploy",), all_=True, sub=_SCALE),
    _r("apps", "ReplicaSet", "replicasets", short=("rs",), all_=True, sub=_SCALE),
    _r("apps", "StatefulSet", "statefulsets", short=("sts",), all_=True, sub=_SCALE),
    _r("apps", "DaemonSet", "daemonsets", short=("ds",), all_=True, sub=_STATUS),
    _r("apps", "ControllerRevision", "controllerrevisions"),
    # batch/v1
    _r("batch", "Job", "jobs", all_=True, sub=_STATUS),
    _r("batch", "CronJob", "cronjobs", short=("cj",), all_=True, sub=_STATUS),
    # autoscaling: one resource served as v2 (preferred) and v1
    _r("autoscaling", "HorizontalPodAutoscaler", "horizontalpodautoscalers",
       versions=("v2", "v1"), short=("hpa",), all_=True, sub=_STATUS),
    # policy/v1
    _r("policy", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",), sub=_STATUS),
    # networking.k8s.io/v1
    _r("networking.k8s.io", "Ingress", "ingresses", short=("ing",), sub=_STATUS),
    _r("networking.k8s.io", "IngressClass", "ingressclasses", namespaced=False),
    _r("networking.k8s.io", "NetworkPolicy", "networkpolicies", short=("netpol",)),
    # discovery.k8s.io/v1
    _r("discovery.k8s.io", "EndpointSlice", "endpointslices"),
    # events.k8s.io/v1: the same stored objects as core/v1 events
    _r("events.k8s.io", "Event", "events", short=("ev",), alias=("", "events")),
    # scheduling.k8s.io/v1
    _r("scheduling.k8s.io", "PriorityClass", "priorityclasses", namespaced=False,
       short=("pc",)),
    # coordination.k8s.io/v1
    _r("coordination.k8s.io", "Lease", "leases"),
    # storage.k8s.io/v1
    _r("storage.k8s.io", "StorageClass", "storageclasses", namespaced=False, short=("sc",)),
    _r("storage.k8s.io", "CSIDriver", "csidrivers", namespaced=False),
    _r("storage.k8s.io", "CSINode", "csinodes", namespaced=False),
    _r("storage.k8s.io", "VolumeAttachment", "volumeattachments", namespaced=False,
       sub=_STATUS),
    # certificates.k8s.io/v1
    _r("certificates.k8s.io", "CertificateSigningRequest", "certificatesigningrequests",
       namespaced=False, short=("csr",), sub=("status", "approval")),
    # rbac.authorization.k8s.io/v1
    _r("rbac.authorization.k8s.io", "Role", "roles"),
    _r("rbac.authorization.k8s.io", "RoleBinding", "rolebindings"),
    _r("rbac.authorization.k8s.io", "ClusterRole", "clusterroles", namespaced=False),
    _r("rbac.authorization.k8s.io", "ClusterRoleBinding", "clusterrolebindings",
       namespaced=False),
    # apiextensions.k8s.io/v1
    _r("apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions",
       namespaced=False, short=("crd", "crds"), api_ext=True, sub=_STATUS),
    # admissionregistration.k8s.io/v1
    _r("admissionregistration.k8s.io", "MutatingWebhookConfiguration",
       "mutatingwebhookconfigurations", namespaced=False, api_ext=True),
    _r("admissionregistration.k8s.io", "ValidatingWebhookConfiguration",
       "validatingwebhookconfigurations", namespaced=False, api_ext=True),
    _r("admissionregistration.k8s.io", "ValidatingAdmissionPolicy",
       "validatingadmissionpolicies", namespaced=False, api_ext=True, sub=_STATUS),
    _r("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding",
       "validatingadmissionpolicybindings", namespaced=False, api_ext=True),
)

# GroupPriorityMinimum of every built-in group kube-apiserver registers.
GROUP_PRIORITY: dict[str, int] = {
    "": 18000,
    "apiregistration.k8s.io": 20001,  # the aggregator lists itself first
    "apps": 17800,
    "events.k8s.io": 17750,
    "authentication.k8s.io": 17700,
    "authorization.k8s.io": 17600,
    "autoscaling": 17500,
    "batch": 17400,
    "certificates.k8s.io": 17300,
    "networking.k8s.io": 17200,
    "policy": 17100,
    "rbac.authorization.k8s.io": 17000,
    "storage.k8s.io": 16800,
    "admissionregistration.k8s.io": 16700,
    "apiextensions.k8s.io": 16700,
    "scheduling.k8s.io": 16600,
    "coordination.k8s.io": 16500,
    "node.k8s.io": 16300,
    "discovery.k8s.io": 16200,
    "flowcontrol.apiserver.k8s.io": 16100,
    "resource.k8s.io": 15900,
}
CUSTOM_GROUP_PRIORITY = 1000  # what upstream gives every CRD group

_KUBE_VERSION = re.compile(r"^v(\d+)(?:(alpha|beta)(\d+))?$")


def version_sort_key(version: str) -> tuple[int, int, int, str]:
    """Kubernetes version order (`kubectl api-versions`, CRD versions): GA before beta
    before alpha, higher numbers first, anything else last by name."""
    m = _KUBE_VERSION.match(version)
    if not m:
        return (3, 0, 0, version)
    major, stage, minor = int(m[1]), m[2], int(m[3] or 0)
    rank = {None: 0, "beta": 1, "alpha": 2}[stage]
    return (rank, -major, -minor, "")


def groups(resources: Iterable[ResourceSpec] = RESOURCES) -> list[tuple[str, tuple[str, ...]]]:
    """Every served group with its versions preferred-first, in discovery order.

    The core group ("") comes first; `/apis` shows the rest in this order. A version
    listed first by any resource of a group (`ResourceSpec.versions[0]`) is the group's
    preferred version; the others follow in Kubernetes version order.
    """
    preferred: dict[str, str] = {}
    versions: dict[str, set[str]] = {}
    for r in resources:
        preferred.setdefault(r.group, r.versions[0])
        versions.setdefault(r.group, set()).update(r.versions)
    out: list[tuple[str, tuple[str, ...]]] = []
    for group in sorted(versions, key=lambda g: (g != "", -GROUP_PRIORITY.get(
            g, CUSTOM_GROUP_PRIORITY), g)):
        first = preferred[group]
        rest = sorted(versions[group] - {first}, key=version_sort_key)
        out.append((group, (first, *rest)))
    return out


def preferred_versions(resources: Iterable[ResourceSpec] = RESOURCES) -> dict[str, str]:
    """group -> preferred version."""
    return {group: versions[0] for group, versions in groups(resources)}


def resources_in(group: str, version: str,
                 resources: Iterable[ResourceSpec] = RESOURCES) -> list[ResourceSpec]:
    """The resources served at group/version, sorted by plural as upstream's
    APIResourceList is."""
    return sorted((r for r in resources if r.group == group and version in r.versions),
                  key=lambda r: r.plural)


def by_group_plural() -> dict[tuple[str, str], ResourceSpec]:
    return {(r.group, r.plural): r for r in RESOURCES}
