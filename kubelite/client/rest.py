"""The REST client: every API verb on any resource, objects as dicts.

`Client` is kubelite's counterpart of client-go's dynamic client. It builds a path
from a `Resource` (resource.py), sends it through a `Transport` (HTTP to any
Kubernetes API server, or in-process to kubelite's own) and decodes JSON with orjson.

Error contract: any non-2xx answer raises the kubelite.machinery.errors class its
Status names (`NotFound`, `Conflict`, `AlreadyExists`, `Invalid`, `Gone`, ...); an
unreachable server raises `TransportError` (a ConnectionError). Nothing is retried
here: retry policy belongs to the caller (informers relist, controllers requeue).

Namespaces: for a namespaced resource, `namespace=None` on a single-object verb means
the object's own `metadata.namespace`, else the client's default namespace; on
list, watch and delete_collection it means every namespace (pass a name to narrow).
"""

from __future__ import annotations

import builtins  # `list` is also a method name in this module's classes

import os
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal

import orjson

from kubelite.client.resource import Resource, ResourceLike, resolve
from kubelite.client.status import from_body
from kubelite.client.transport import Transport
from kubelite.client.watch import Watch

Obj = dict[str, Any]
PatchType = Literal["json", "merge", "strategic", "apply"]

PATCH_CONTENT_TYPES: dict[str, str] = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",  # JSON is YAML: the body stays JSON
}
_JSON_HEADERS = {"Accept": "application/json"}
_BODY_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


def _params(**values: Any) -> dict[str, str]:
    """Query parameters with None dropped and booleans spelled as Go parses them."""
    out: dict[str, str] = {}
    for key, value in values.items():
        if value is None or value == "":
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return out


class Client:
    """One API server. `field_manager` is sent on writes unless a call names another."""

    def __init__(self, transport: Transport, *, namespace: str = "default",
                 field_manager: str | None = None) -> None:
        self.transport = transport
        self.namespace = namespace
        self.field_manager = field_manager

    @classmethod
    def from_kubeconfig(cls, path: str | os.PathLike[str] | None = None, *,
                        context: str | None = None, field_manager: str | None = None,
                        **transport_options: Any) -> Client:
        from kubelite.client.kubeconfig import load_kubeconfig
        config = load_kubeconfig(path, context=context)
        return cls(config.transport(**transport_options), namespace=config.namespace,
                   field_manager=field_manager)

    async def close(self) -> None:
        await self.transport.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- plumbing -----------------------------------------------------------------

    async def request(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
                      body: Obj | list[Any] | None = None,
                      content_type: str = "application/json") -> Obj:
        """One call, decoded; raises the Status error for a non-2xx answer."""
        headers = _JSON_HEADERS
        data = None
        if body is not None:
            data = orjson.dumps(body)
            headers = _BODY_HEADERS if content_type == "application/json" else {
                "Accept": "application/json", "Content-Type": content_type}
        resp = await self.transport.request(method, path, params=params, body=data,
                                            headers=headers)
        if resp.status >= 300:
            raise from_body(resp.body, resp.status)
        return orjson.loads(resp.body) if resp.body else {}

    def _ns(self, res: Resource, namespace: str | None, obj: Obj | None = None) -> str | None:
        if not res.namespaced:
            return None
        if namespace:
            return namespace
        if obj is not None:
            own = (obj.get("metadata") or {}).get("namespace")
            if own:
                return str(own)
        return self.namespace

    def _write_params(self, dry_run: bool, field_manager: str | None,
                      field_validation: str | None) -> dict[str, str]:
        return _params(dryRun="All" if dry_run else None,
                       fieldManager=field_manager or self.field_manager,
                       fieldValidation=field_validation)

    # --- reads ----------------------------------------------------------------------

    async def get(self, resource: ResourceLike, name: str, *, namespace: str | None = None,
                  subresource: str | None = None, resource_version: str | None = None) -> Obj:
        res = resolve(resource)
        return await self.request("GET", res.path(self._ns(res, namespace), name, subresource),
                                  params=_params(resourceVersion=resource_version))

    async def list(self, resource: ResourceLike, *, namespace: str | None = None,
                   label_selector: str | None = None, field_selector: str | None = None,
                   limit: int | None = None, continue_: str | None = None,
                   resource_version: str | None = None,
                   resource_version_match: str | None = None) -> Obj:
        """One page: the List object (`items`, `metadata.resourceVersion`,
        `metadata.continue` when more pages remain)."""
        res = resolve(resource)
        params = _params(labelSelector=label_selector, fieldSelector=field_selector,
                         limit=limit, resourceVersion=resource_version,
                         resourceVersionMatch=resource_version_match)
        if continue_:
            params["continue"] = continue_
        return await self.request("GET", res.path(namespace), params=params)

    async def list_pages(self, resource: ResourceLike, *, page_size: int = 500,
                         **options: Any) -> AsyncIterator[Obj]:
        """Every page of a list, following `continue` tokens. The pages form one
        consistent snapshot: the server serves continuations at the first page's
        resourceVersion."""
        token: str | None = None
        while True:
            page = await self.list(resource, limit=page_size, continue_=token, **options)
            yield page
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return

    async def list_all(self, resource: ResourceLike, *, page_size: int = 500,
                       **options: Any) -> tuple[builtins.list[Obj], str]:
        """All items across pages, and the snapshot's resourceVersion (the first
        page's, which a watch resumes from)."""
        items: list[Obj] = []
        rv = ""
        async for page in self.list_pages(resource, page_size=page_size, **options):
            items.extend(page.get("items") or ())
            rv = rv or (page.get("metadata") or {}).get("resourceVersion", "")
        return items, rv

    def watch(self, resource: ResourceLike, *, namespace: str | None = None,
              name: str | None = None, label_selector: str | None = None,
              field_selector: str | None = None, resource_version: str | None = None,
              allow_bookmarks: bool = True, send_initial_events: bool | None = None,
              timeout_seconds: int | None = None) -> Watch:
        """Events after `resource_version` ("" or "0": the current objects as ADDED
        first). `send_initial_events=True` asks for watch-list: the state as ADDED
        events ending with a BOOKMARK annotated `k8s.io/initial-events-end`."""
        res = resolve(resource)
        if name:
            field_selector = ",".join(filter(None, [f"metadata.name={name}", field_selector]))
        params = _params(watch=True, labelSelector=label_selector,
                         fieldSelector=field_selector, resourceVersion=resource_version,
                         allowWatchBookmarks=allow_bookmarks or None,
                         timeoutSeconds=timeout_seconds)
        if send_initial_events is not None:
            params["sendInitialEvents"] = "true" if send_initial_events else "false"
            params["resourceVersionMatch"] = "NotOlderThan"
        return Watch(self.transport.stream("GET", res.path(self._list_ns(res, namespace)),
                                           params=params, headers=_JSON_HEADERS))

    @staticmethod
    def _list_ns(res: Resource, namespace: str | None) -> str | None:
        return namespace if res.namespaced else None

    # --- writes ----------------------------------------------------------------------

    async def create(self, resource: ResourceLike, obj: Obj, *, namespace: str | None = None,
                     dry_run: bool = False, field_manager: str | None = None,
                     field_validation: str | None = None) -> Obj:
        res = resolve(resource)
        return await self.request(
            "POST", res.path(self._ns(res, namespace, obj)), body=self._stamp(res, obj),
            params=self._write_params(dry_run, field_manager, field_validation))

    async def update(self, resource: ResourceLike, obj: Obj, *, namespace: str | None = None,
                     subresource: str | None = None, dry_run: bool = False,
                     field_manager: str | None = None,
                     field_validation: str | None = None) -> Obj:
        """PUT the whole object; `metadata.resourceVersion`, when set, makes it
        conditional (409 Conflict if the object changed since)."""
        res = resolve(resource)
        name = (obj.get("metadata") or {}).get("name") or ""
        return await self.request(
            "PUT", res.path(self._ns(res, namespace, obj), name, subresource),
            body=self._stamp(res, obj) if subresource in (None, "status") else obj,
            params=self._write_params(dry_run, field_manager, field_validation))

    async def update_status(self, resource: ResourceLike, obj: Obj, *,
                            namespace: str | None = None, **options: Any) -> Obj:
        return await self.update(resource, obj, namespace=namespace, subresource="status",
                                 **options)

    async def patch(self, resource: ResourceLike, name: str, patch: Obj | builtins.list[Any], *,
                    type: PatchType = "merge", namespace: str | None = None,
                    subresource: str | None = None, field_manager: str | None = None,
                    force: bool | None = None, dry_run: bool = False,
                    field_validation: str | None = None) -> Obj:
        """`type="apply"` is server-side apply: it needs a field manager (here or on
        the client) and `force=True` takes fields other managers own."""
        res = resolve(resource)
        if type not in PATCH_CONTENT_TYPES:
            raise ValueError(f"unknown patch type {type!r}")
        params = self._write_params(dry_run, field_manager, field_validation)
        if type == "apply":
            if "fieldManager" not in params:
                raise ValueError("server-side apply needs a field_manager")
            if force is not None:
                params["force"] = "true" if force else "false"
        return await self.request(
            "PATCH", res.path(self._ns(res, namespace), name, subresource), body=patch,
            params=params, content_type=PATCH_CONTENT_TYPES[type])

    async def apply(self, resource: ResourceLike, obj: Obj, *, namespace: str | None = None,
                    field_manager: str | None = None, force: bool = False,
                    subresource: str | None = None) -> Obj:
        """Server-side apply of `obj` (name taken from its metadata)."""
        res = resolve(resource)
        return await self.patch(res, obj["metadata"]["name"], self._stamp(res, obj),
                                type="apply", namespace=self._ns(res, namespace, obj),
                                field_manager=field_manager, force=force,
                                subresource=subresource)

    async def delete(self, resource: ResourceLike, name: str, *, namespace: str | None = None,
                     propagation_policy: str | None = None,
                     grace_period_seconds: int | None = None,
                     preconditions: Mapping[str, str] | None = None,
                     dry_run: bool = False) -> Obj:
        """Returns what the server returns: the object (still there with a
        deletionTimestamp when finalizers or grace hold it) or a Success Status."""
        res = resolve(resource)
        return await self.request(
            "DELETE", res.path(self._ns(res, namespace), name),
            body=self._delete_options(propagation_policy, grace_period_seconds,
                                      preconditions, dry_run))

    async def delete_collection(self, resource: ResourceLike, *, namespace: str | None = None,
                                label_selector: str | None = None,
                                field_selector: str | None = None,
                                propagation_policy: str | None = None,
                                grace_period_seconds: int | None = None,
                                dry_run: bool = False) -> Obj:
        res = resolve(resource)
        return await self.request(
            "DELETE", res.path(self._list_ns(res, namespace)),
            params=_params(labelSelector=label_selector, fieldSelector=field_selector),
            body=self._delete_options(propagation_policy, grace_period_seconds, None,
                                      dry_run))

    # --- subresources ------------------------------------------------------------------

    async def get_scale(self, resource: ResourceLike, name: str, *,
                        namespace: str | None = None) -> Obj:
        return await self.get(resource, name, namespace=namespace, subresource="scale")

    async def update_scale(self, resource: ResourceLike, name: str, replicas: int, *,
                           namespace: str | None = None,
                           resource_version: str | None = None) -> Obj:
        res = resolve(resource)
        ns = self._ns(res, namespace)
        meta: Obj = {"name": name}
        if ns:
            meta["namespace"] = ns
        if resource_version:
            meta["resourceVersion"] = resource_version
        scale = {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": meta,
                 "spec": {"replicas": replicas}}
        return await self.update(res, scale, namespace=ns, subresource="scale")

    async def bind(self, pod_name: str, node_name: str, *, namespace: str | None = None,
                   pod_uid: str | None = None) -> Obj:
        """POST pods/binding, as the scheduler does; `pod_uid` guards against binding
        a pod that was deleted and recreated under the same name."""
        res = resolve("pods")
        ns = self._ns(res, namespace)
        meta: Obj = {"name": pod_name, "namespace": ns}
        if pod_uid:
            meta["uid"] = pod_uid
        binding = {"kind": "Binding", "apiVersion": "v1", "metadata": meta,
                   "target": {"kind": "Node", "apiVersion": "v1", "name": node_name}}
        return await self.request("POST", res.path(ns, pod_name, "binding"), body=binding,
                                  params=self._write_params(False, None, None))

    # --- helpers ------------------------------------------------------------------------

    @staticmethod
    def _stamp(res: Resource, obj: Obj) -> Obj:
        """Fill in kind/apiVersion when missing, as typed clients do; a dict the
        caller passes is not modified."""
        if obj.get("apiVersion") and obj.get("kind"):
            return obj
        out = dict(obj)
        out.setdefault("apiVersion", res.api_version)
        if res.kind:
            out.setdefault("kind", res.kind)
        return out

    @staticmethod
    def _delete_options(propagation_policy: str | None, grace_period_seconds: int | None,
                        preconditions: Mapping[str, str] | None, dry_run: bool) -> Obj | None:
        opts: Obj = {}
        if propagation_policy:
            opts["propagationPolicy"] = propagation_policy
        if grace_period_seconds is not None:
            opts["gracePeriodSeconds"] = grace_period_seconds
        if preconditions:
            opts["preconditions"] = dict(preconditions)
        if dry_run:
            opts["dryRun"] = ["All"]
        if not opts:
            return None
        return {"kind": "DeleteOptions", "apiVersion": "v1", **opts}
