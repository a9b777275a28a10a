"""The resource catalogue: every built-in kind kubelite serves, as data.

One row per resource drives routing, discovery, OpenAPI, the client and the CLI, the
way kube-apiserver's storage map and discovery documents do. A row says what upstream
discovery says (`kubectl api-resources` on a 1.35 cluster): group, versions, plural,
singular, scope, short names, categories, verbs and subresources.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


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
    crd_schemas: dict[str, dict] | None = field(default=None, compare=False, hash=False)

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
        """Storage key prefix; objects live at <prefix><namespace>/<name> or <prefix><name>."""
        group = self.group or "core"
        return f"/registry/{group}/{self.plural}/"


RESOURCES: tuple[ResourceSpec, ...] = (
    # core/v1
    ResourceSpec("", ("v1",), "Pod", "pods", short_names=("po",), categories=("all",),
                 subresources=("status", "binding")),
    ResourceSpec("", ("v1",), "ConfigMap", "configmaps", short_names=("cm",)),
    ResourceSpec("", ("v1",), "Namespace", "namespaces", namespaced=False, short_names=("ns",),
                 verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
                 subresources=("status", "finalize")),
    # apps/v1
    ResourceSpec("apps", ("v1",), "Deployment", "deployments", short_names=("deploy",),
                 categories=("all",), subresources=("status", "scale")),
)


def by_group_plural() -> dict[tuple[str, str], ResourceSpec]:
    return {(r.group, r.plural): r for r in RESOURCES}
