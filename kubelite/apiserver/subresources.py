"""Subresources other than status: scale, pods/binding, namespaces/finalize (and
pods/eviction, whose handler is eviction.py).

`scale` shows a workload as an autoscaling/v1 Scale (what `kubectl scale` and the HPA
use): spec.replicas is the workload's, status.replicas and status.selector come from
its status and selector. Writing a Scale changes only the workload's spec.replicas.
How a Scale is read from and written into an object, custom resources' paths
included, is `registry/strategies/scale.py`; here are only its HTTP verbs.

`status` and `approval` are the object itself written under another strategy, so the
generic handlers serve them (WHOLE_OBJECT); the rest are keyed by subresource and verb: the router has already checked that the
resource has the subresource.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from kubelite.api.catalogue import GVK
from kubelite.apiserver import negotiation
from kubelite.apiserver.eviction import create_eviction
from kubelite.apiserver.negotiation import Accept, decode_body
from kubelite.apiserver.patch.json_patch import apply_json_patch
from kubelite.apiserver.patch.merge_patch import apply_merge_patch
from kubelite.apiserver.options import write_options
from kubelite.apiserver.printers import table_for
from kubelite.apiserver.registry.store import Store, WriteOptions
from kubelite.apiserver.registry.strategies.scale import replicas_from, scale_of, set_replicas
from kubelite.apiserver.responses import object_response
from kubelite.apiserver.routing import RequestInfo
from kubelite.apiserver.validation import decode_subresource_body
from kubelite.machinery import errors
from kubelite.machinery.options import CreateOptions, PatchOptions, UpdateOptions
from kubelite.machinery.timestamps import now_rfc3339

Obj = dict[str, Any]
Handler = Callable[[web.Request, RequestInfo, Store, Accept], Awaitable[web.StreamResponse]]


async def get_scale(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                    ) -> web.StreamResponse:
    entry = await store.get(info.namespace, info.name)
    scale = scale_of(entry.obj, store.spec.scale_paths)
    if accept.table:
        return object_response(table_for("autoscaling", "Scale", [scale],
                                         include_object=accept.include_object,
                                         now=datetime.datetime.now(datetime.UTC)), accept)
    return object_response(scale, accept)


async def _write_scale(info: RequestInfo, store: Store, accept: Accept,
                       new_scale: Callable[[Obj], Obj], opts: WriteOptions
                       ) -> web.StreamResponse:
    async def mutate(current: Obj) -> Obj:
        replicas, precondition = replicas_from(
            new_scale(scale_of(current, store.spec.scale_paths)), info.name)
        set_replicas(current, replicas, store.spec.scale_paths)
        if precondition:
            current["metadata"]["resourceVersion"] = precondition
        return current

    opts.subresource = ""  # the workload's own strategy runs, like a spec update
    result, _ = await store.guaranteed_update(info.namespace, info.name, mutate, opts)
    return object_response(scale_of(result, store.spec.scale_paths), accept)


async def update_scale(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                       ) -> web.StreamResponse:
    options = UpdateOptions.parse(request.query)
    body = decode_body(await request.read(), request.headers.get("Content-Type", ""))
    return await _write_scale(info, store, accept, lambda _: body,
                              write_options(request, info, options))


async def patch_scale(request: web.Request, info: RequestInfo, store: Store, accept: Accept
                      ) -> web.StreamResponse:
    ctype = negotiation.media_type(request.headers.get("Content-Type", ""))
    options = PatchOptions.parse(request.query, apply=ctype == negotiation.APPLY_PATCH)
    patch = decode_body(await request.read(), ctype)
    if ctype == negotiation.JSON_PATCH:
        def new_scale(scale: Obj) -> Obj:
            patched: Obj = apply_json_patch(scale, patch)
            return patched
    elif ctype in (negotiation.MERGE_PATCH, negotiation.STRATEGIC_PATCH,
                   negotiation.APPLY_PATCH):
        # A Scale has no lists: strategic and apply patches merge like a merge patch.
        def new_scale(scale: Obj) -> Obj:
            return apply_merge_patch(scale, patch)
    else:
        raise errors.UnsupportedMediaType(f"unsupported patch type {ctype}")
    return await _write_scale(info, store, accept, new_scale,
                              write_options(request, info, options))


async def create_binding(request: web.Request, info: RequestInfo, store: Store,
                         accept: Accept) -> web.StreamResponse:
    """pods/<name>/binding: assign a pod to a node, once (the scheduler's write)."""
    options = CreateOptions.parse(request.query)
    binding = decode_subresource_body(await request.read(),
                                      request.headers.get("Content-Type", ""),
                                      GVK("", "v1", "Binding"))
    target = binding.get("target") or {}
    node = target.get("name")
    if not node:
        raise errors.invalid("", "Binding", info.name, [errors.Cause(
            "FieldValueRequired", "Required value", "target.name")])
    if target.get("kind") not in (None, "", "Node"):
        raise errors.invalid("", "Binding", info.name, [errors.Cause(
            "FieldValueNotSupported", 'Unsupported value: must be "Node"', "target.kind")])

    wanted_uid = (binding.get("metadata") or {}).get("uid")

    async def mutate(pod: Obj) -> Obj:
        meta = pod["metadata"]
        if wanted_uid and wanted_uid != meta.get("uid"):
            # upstream's setPodHostAndAnnotations: the Binding's uid is a precondition, so a
            # pod deleted and re-created under its name is not bound in its place
            raise errors.conflict("", "pods", info.name,
                                  f"Precondition failed: UID in precondition: {wanted_uid}, "
                                  f"UID in object meta: {meta.get('uid', '')}")
        if meta.get("deletionTimestamp"):
            raise errors.conflict("", "pods", info.name, "pod is being deleted, cannot be "
                                  "assigned to a host")
        assigned = (pod.get("spec") or {}).get("nodeName")
        if assigned:
            raise errors.conflict("", "pods", info.name,
                                  f'pod {info.name} is already assigned to node "{assigned}"')
        pod["spec"]["nodeName"] = node
        extra = (binding.get("metadata") or {}).get("annotations") or {}
        if extra:
            meta["annotations"] = {**(meta.get("annotations") or {}), **extra}
        conditions = [c for c in (pod.get("status") or {}).get("conditions") or ()
                      if c.get("type") != "PodScheduled"]
        conditions.append({"type": "PodScheduled", "status": "True",
                           "lastProbeTime": None,
                           "lastTransitionTime": now_rfc3339()})
        pod.setdefault("status", {})["conditions"] = conditions
        return pod

    opts = write_options(request, info, options)
    opts.subresource = "binding"
    # upstream writes a binding straight to storage: no field manager records it
    opts.field_manager = ""
    await store.guaranteed_update(info.namespace, info.name, mutate, opts)
    return object_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Success", "code": 201}, accept, 201)


async def update_finalize(request: web.Request, info: RequestInfo, store: Store,
                          accept: Accept) -> web.StreamResponse:
    """namespaces/<name>/finalize: only spec.finalizers changes."""
    options = UpdateOptions.parse(request.query)
    body = decode_subresource_body(await request.read(),
                                   request.headers.get("Content-Type", ""),
                                   GVK("", "v1", "Namespace"))
    finalizers = (body.get("spec") or {}).get("finalizers") or []

    async def mutate(ns: Obj) -> Obj:
        ns.setdefault("spec", {})["finalizers"] = finalizers
        if not finalizers:
            ns["spec"].pop("finalizers")
        return ns

    opts = write_options(request, info, options)
    opts.subresource = "finalize"
    result, _ = await store.guaranteed_update(info.namespace, info.name, mutate, opts)
    return object_response(result, accept)


WHOLE_OBJECT = frozenset({"status", "approval"})
SUBRESOURCE_READS: dict[str, Handler] = {"scale": get_scale}
SUBRESOURCE_WRITES: dict[tuple[str, str], Handler] = {
    ("scale", "update"): update_scale,
    ("scale", "patch"): patch_scale,
    ("binding", "create"): create_binding,
    ("eviction", "create"): create_eviction,
    ("finalize", "update"): update_finalize,
}
