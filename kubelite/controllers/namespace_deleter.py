"""Emptying a terminating namespace through the API (upstream's
pkg/controller/namespace/deletion/namespaced_resources_deleter.go).

    discover: /api, /apis ─► every namespaced resource, at its group's preferred
              version, whose verbs include delete (custom resources included)
    for each, at once:  deletecollection in the namespace (Background), or list and
                        delete one by one where deletecollection is not served;
                        then list what is left: count it, and its finalizers
    Content ─► deletion_conditions: the five conditions upstream keeps in status

Nothing here keeps state between passes: a pass asks every object to go and reports
what is still there (being deleted gracefully, or held by finalizers), so running it
again is safe and does no more than the objects still present need. A resource the
server stops serving between discovery and the delete (a CRD deleted meanwhile)
answers 404 or 405 and is skipped, as upstream does.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kubelite.client.resource import Resource
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.machinery.conditions import set_condition
from kubelite.machinery.timestamps import now_rfc3339

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Deletable:
    """A namespaced resource the namespace loop empties, with what it serves."""

    resource: Resource
    delete_collection: bool  # deletecollection served: one request empties it
    listable: bool  # list served: what remains can be counted


@dataclass(slots=True)
class Discovered:
    resources: list[Deletable] = field(default_factory=list)
    failed_groups: list[str] = field(default_factory=list)  # "group/version: why"


@dataclass(slots=True)
class Content:
    """What a deletion pass left in a namespace."""

    remaining: int = 0  # objects still there (being deleted, held by finalizers)
    by_resource: Counter[str] = field(default_factory=Counter)  # "configmaps." -> n
    by_finalizer: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # deletes that failed
    discovery_failures: list[str] = field(default_factory=list)


async def discover(client: Client) -> Discovered:
    """Every namespaced resource that can be deleted, at its group's preferred version
    (upstream's ServerPreferredNamespacedResources filtered by the delete verb). A group
    whose resource list cannot be read is reported, and the others are still emptied:
    discovery failures are not fatal upstream either."""
    versions = [("", str(v)) for v in (await client.request("GET", "/api")).get("versions")
                or []]
    for group in (await client.request("GET", "/apis")).get("groups") or []:
        preferred = (group.get("preferredVersion") or {}).get("version")
        if preferred:
            versions.append((str(group["name"]), str(preferred)))
    found = Discovered()
    listings = await asyncio.gather(*(_resource_list(client, g, v) for g, v in versions),
                                    return_exceptions=True)
    for (group, version), listing in zip(versions, listings, strict=True):
        if isinstance(listing, errors.NotFound):
            continue  # the group went away between the two reads (a CRD deleted)
        if isinstance(listing, BaseException):
            if not isinstance(listing, Exception):
                raise listing
            found.failed_groups.append(f"{group or 'core'}/{version}: {listing}")
            continue
        for entry in listing.get("resources") or []:
            plural = str(entry.get("name") or "")
            verbs = set(entry.get("verbs") or ())
            if "/" in plural or not entry.get("namespaced") or "delete" not in verbs:
                continue
            found.resources.append(Deletable(
                Resource(group, version, plural, True, str(entry.get("kind") or "")),
                delete_collection="deletecollection" in verbs, listable="list" in verbs))
    return found


async def _resource_list(client: Client, group: str, version: str) -> Obj:
    return await client.request("GET", f"/apis/{group}/{version}" if group
                                else f"/api/{version}")


async def delete_content(client: Client, namespace: str, resources: list[Deletable]
                         ) -> Content:
    """Ask every object of `resources` in `namespace` to go (all resources at once: the
    store commits their deletes together); report what is left. Nothing left and no
    failures means the namespace is empty."""
    content = Content()
    await asyncio.gather(*(_empty(client, namespace, d, content) for d in resources))
    return content


_UNSERVED = (errors.NotFound, errors.MethodNotAllowed)


async def _empty(client: Client, namespace: str, d: Deletable, content: Content) -> None:
    res = d.resource
    try:
        if d.delete_collection:
            await client.delete_collection(res, namespace=namespace,
                                           propagation_policy="Background")
        elif d.listable:
            await _delete_each(client, namespace, d)
        if not d.listable:
            return  # nothing can count what is left: upstream trusts the deletes too
        listing = await client.list(res, namespace=namespace)
    except _UNSERVED:
        return  # no longer served (a CRD deleted meanwhile): nothing of it is left
    except errors.StatusError as err:
        content.failures.append(f"{res.group_resource}: {err.message}")
        return
    items = listing.get("items") or []
    if not items:
        return
    content.remaining += len(items)
    # Upstream prints resource.group, so core resources end with a dot.
    content.by_resource[f"{res.plural}.{res.group}"] += len(items)
    for item in items:
        for finalizer in (item.get("metadata") or {}).get("finalizers") or ():
            content.by_finalizer[finalizer] += 1


async def _delete_each(client: Client, namespace: str, d: Deletable) -> None:
    listing = await client.list(d.resource, namespace=namespace)
    for item in listing.get("items") or []:
        meta = item.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            continue  # already going: its finalizers or grace period decide when
        try:
            await client.delete(d.resource, str(meta.get("name") or ""), namespace=namespace,
                                propagation_policy="Background")
        except errors.NotFound:
            continue


# The condition types upstream's namespace deleter maintains, with the reason and
# message each has when all is well (deletion/status_condition_utils.go).
_OK = {
    "NamespaceDeletionDiscoveryFailure": ("ResourcesDiscovered",
                                          "All resources successfully discovered"),
    "NamespaceDeletionGroupVersionParsingFailure": (
        "ParsedGroupVersions", "All legacy kube types successfully parsed"),
    "NamespaceDeletionContentFailure": (
        "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
    "NamespaceContentRemaining": ("ContentRemoved", "All content successfully removed"),
    "NamespaceFinalizersRemaining": ("ContentRemoved", "All content successfully removed"),
}


def deletion_conditions(old: list[Obj], content: Content) -> list[Obj]:
    """`old` with the deletion conditions set from `content`; a condition whose status,
    reason and message did not change is kept as it was, so an unchanged pass compares
    equal and writes nothing."""
    problems: dict[str, tuple[str, str]] = {}
    if content.discovery_failures:
        problems["NamespaceDeletionDiscoveryFailure"] = (
            "DiscoveryFailed", f"Discovery failed for some groups, "
            f"{len(content.discovery_failures)} failing: "
            + ", ".join(sorted(content.discovery_failures)))
    if content.failures:
        problems["NamespaceDeletionContentFailure"] = (
            "ContentDeletionFailed", f"Failed to delete all resource types, "
            f"{len(content.failures)} remaining: {', '.join(sorted(content.failures))}")
    if content.by_resource:
        problems["NamespaceContentRemaining"] = ("SomeResourcesRemain", (
            "Some resources are remaining: " + ", ".join(sorted(
                f"{resource} has {n} resource instances"
                for resource, n in content.by_resource.items()))))
    if content.by_finalizer:
        problems["NamespaceFinalizersRemaining"] = ("SomeFinalizerRemain", (
            "Some finalizers are remaining: " + ", ".join(sorted(
                f"{finalizer} in {n} resource instances"
                for finalizer, n in content.by_finalizer.items()))))
    conditions = list(old)
    for type_, ok in _OK.items():
        status = "True" if type_ in problems else "False"
        reason, message = problems.get(type_, ok)
        conditions = set_condition(conditions, {
            "type": type_, "status": status, "lastTransitionTime": now_rfc3339(),
            "reason": reason, "message": message})
    return conditions
