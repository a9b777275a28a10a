"""Discovery documents: which groups, versions and resources this server serves.

Both forms upstream serves (staging/src/k8s.io/apiserver/pkg/endpoints/discovery):
the plain one (/api, /apis, /apis/<group>, and a resource list per group-version) and
the aggregated one (apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api and /apis in
one response each), which kubectl asks for first and which saves it a request per
group-version. Documents are built from the registry's resource table on demand, so
a CustomResourceDefinition shows up as soon as it is registered.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from kubelite.api.catalogue import ResourceSpec

Obj = dict[str, Any]

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = ("application/json;g=apidiscovery.k8s.io;v=v2beta1;"
                      "as=APIGroupDiscoveryList")

# How each subresource appears in discovery: its response kind and verbs.
_SUBRESOURCES: dict[str, tuple[tuple[str, str, str] | None, tuple[str, ...]]] = {
    "status": (None, ("get", "patch", "update")),
    "scale": (("autoscaling", "v1", "Scale"), ("get", "patch", "update")),
    "binding": (("", "v1", "Binding"), ("create",)),
    "eviction": (("policy", "v1", "Eviction"), ("create",)),
    "finalize": (None, ("update",)),
    "approval": (None, ("get", "patch", "update")),
    "token": (("authentication.k8s.io", "v1", "TokenRequest"), ("create",)),
}


def group_versions(specs: list[ResourceSpec]) -> OrderedDict[str, list[str]]:
    """group -> served versions, preferred first, in the order groups first appear."""
    out: OrderedDict[str, list[str]] = OrderedDict()
    for spec in specs:
        versions = out.setdefault(spec.group, [])
        for v in spec.versions:
            if v not in versions:
                versions.append(v)
    return out


def api_versions(server_address: str) -> Obj:
    return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def _group_doc(group: str, versions: list[str]) -> Obj:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(specs: list[ResourceSpec]) -> Obj:
    groups = [_group_doc(g, vs) for g, vs in group_versions(specs).items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(specs: list[ResourceSpec], group: str) -> Obj | None:
    versions = group_versions(specs).get(group)
    if not versions or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group, versions)}


def resource_list(specs: list[ResourceSpec], group: str, version: str) -> Obj | None:
    resources: list[Obj] = []
    for spec in specs:
        if spec.group != group or version not in spec.versions:
            continue
        entry: Obj = {"name": spec.plural, "singularName": spec.singular_name,
                      "namespaced": spec.namespaced, "kind": spec.kind,
                      "verbs": list(spec.verbs)}
        if spec.short_names:
            entry["shortNames"] = list(spec.short_names)
        if spec.categories:
            entry["categories"] = list(spec.categories)
        resources.append(entry)
        for sub in spec.subresources:
            kind, verbs = _SUBRESOURCES.get(sub, (None, ("get",)))
            sub_entry: Obj = {"name": f"{spec.plural}/{sub}", "singularName": "",
                              "namespaced": spec.namespaced,
                              "kind": kind[2] if kind else spec.kind, "verbs": list(verbs)}
            if kind and kind[0] != spec.group:
                sub_entry["group"], sub_entry["version"] = kind[0], kind[1]
            resources.append(sub_entry)
    if not resources:
        return None
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv,
            "resources": resources}


def aggregated(specs: list[ResourceSpec], *, legacy: bool, api_version: str) -> Obj:
    """APIGroupDiscoveryList for /api (legacy=True: the core group) or /apis."""
    items = []
    for group, versions in group_versions(specs).items():
        if (group == "") != legacy:
            continue
        version_docs = []
        for version in versions:
            resources = [_aggregated_resource(s, version) for s in specs
                         if s.group == group and version in s.versions]
            version_docs.append({"version": version, "resources": resources,
                                 "freshness": "Current"})
        items.append({"metadata": {"name": group, "creationTimestamp": None},
                      "versions": version_docs})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version,
            "metadata": {}, "items": items}


def _aggregated_resource(spec: ResourceSpec, version: str) -> Obj:
    out: Obj = {
        "resource": spec.plural,
        "responseKind": {"group": spec.group, "version": version, "kind": spec.kind},
        "scope": "Namespaced" if spec.namespaced else "Cluster",
        "singularResource": spec.singular_name,
        "verbs": list(spec.verbs),
    }
    if spec.short_names:
        out["shortNames"] = list(spec.short_names)
    if spec.categories:
        out["categories"] = list(spec.categories)
    subs = []
    for sub in spec.subresources:
        kind, verbs = _SUBRESOURCES.get(sub, (None, ("get",)))
        group, ver, kname = kind if kind else (spec.group, version, spec.kind)
        subs.append({"subresource": sub,
                     "responseKind": {"group": group, "version": ver, "kind": kname},
                     "verbs": list(verbs)})
    if subs:
        out["subresources"] = subs
    return out


def wants_aggregated(accept: str) -> str | None:
    """The aggregated media type the client accepts, or None for the plain form."""
    for part in accept.split(","):
        media = part.strip().replace(" ", "")
        if "as=APIGroupDiscoveryList" in media and "g=apidiscovery.k8s.io" in media:
            if "v=v2beta1" in media:
                return AGGREGATED_V2BETA1
            if "v=v2" in media:
                return AGGREGATED_V2
        elif media.startswith("application/json") or media == "*/*":
            return None
    return None
