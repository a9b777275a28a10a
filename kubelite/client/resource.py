"""Addressing: which URL path serves a resource.

The client is typed by resource, not by kind class: a `Resource` is the
(group, version, plural, scope) a path needs, and objects stay plain dicts. Built-ins
come from kubelite.api.catalogue; a custom resource (or any resource a remote server
has and kubelite's catalogue lacks) is named by building `Resource` directly.

`resolve()` accepts what a person would type: a `Resource`, a catalogue
`ResourceSpec`, or a string: a plural (`pods`), `plural.group` (`deployments.apps`),
a kind (`Deployment`), a singular or a short name (`deploy`). A bare name that two
groups share (`events`) resolves to the group listed first in the catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from urllib.parse import quote

from kubelite.api.catalogue import RESOURCES, ResourceSpec


@dataclass(frozen=True, slots=True)
class Resource:
    group: str
    version: str
    plural: str
    namespaced: bool = True
    kind: str = ""

    @classmethod
    def from_spec(cls, spec: ResourceSpec, version: str | None = None) -> Resource:
        return cls(spec.group, version or spec.versions[0], spec.plural, spec.namespaced,
                   spec.kind)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None,
             subresource: str | None = None) -> str:
        """`/api/v1/namespaces/ns/pods/name/status`; `namespace` None or "" on a
        namespaced resource addresses every namespace (lists and watches)."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        parts = [base]
        if self.namespaced and namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name is not None:
            if not name:
                raise ValueError(f"{self.group_resource}: empty name")
            parts.append(quote(name, safe=""))
            if subresource:
                parts.append(subresource)
        return "/".join(parts)


ResourceLike = Resource | ResourceSpec | str


@cache
def _index() -> dict[str, ResourceSpec]:
    names: dict[str, ResourceSpec] = {}
    # Every spelling goes in once, first spec wins; plural.group is always unique.
    for spec in RESOURCES:
        names.setdefault(spec.group_resource.lower(), spec)
        for name in (spec.plural, spec.kind, spec.singular_name, *spec.short_names):
            names.setdefault(name.lower(), spec)
        if spec.group:
            names.setdefault(f"{spec.kind}.{spec.group}".lower(), spec)
    return names


def resolve(resource: ResourceLike, *, version: str | None = None) -> Resource:
    if isinstance(resource, Resource):
        return resource
    if isinstance(resource, ResourceSpec):
        return Resource.from_spec(resource, version)
    spec = _index().get(resource.lower())
    if spec is None:
        raise KeyError(f"unknown resource {resource!r}: pass a Resource for custom resources")
    return Resource.from_spec(spec, version)
