"""The API server: one aiohttp handler in front of discovery, OpenAPI and the registry.

Requests are routed by hand (routing.py), not by a framework router: every resource
path has the same few shapes, and a dict lookup per request is cheaper than matching
hundreds of registered routes. Every error leaves as a Kubernetes Status.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import ssl
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from kubelite.apiserver import (
    aggregation,
    compaction,
    create_only,
    crd_controller,
    crds,
    discovery,
    openapi_handlers,
    pod_connect,
    reads,
    watch,
    writes,
)
from kubelite.apiserver.audit.auditor import AUTHORIZATION, Auditor, log_impersonated_user
from kubelite.apiserver.auth.attributes import (
    USER,
    Attributes,
    Authenticator,
    Authorizer,
    Decision,
    forbidden,
    non_resource_attributes,
    resource_attributes,
)
from kubelite.apiserver.auth.reviews import TokenReviews, self_subject_reviews
from kubelite.apiserver.auth.impersonation import impersonate
from kubelite.apiserver.auth.user import UNAUTHENTICATED_ADMIN
from kubelite.apiserver.bootstrap import bootstrap
from kubelite.apiserver.kubelet_proxy import KubeletTransport
from kubelite.apiserver.negotiation import MAX_BODY_BYTES, parse_accept
from kubelite.apiserver.registry import allocators
from kubelite.apiserver.registry.registry import Registry
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.apiserver.responses import json_response, single_response, status_response
from kubelite.apiserver.routing import RequestInfo, parse_resource_path
from kubelite.apiserver.subresources import SUBRESOURCE_READS, WHOLE_OBJECT
from kubelite.apiserver.version import version_info
from kubelite.apiserver.watchcache import HISTORY_SIZE, Cache
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.machinery.options import GetOptions
from kubelite.machinery.parameters import WATCH
from kubelite.storage.backend import Backend

if TYPE_CHECKING:  # the crypto libraries load only for a server that encrypts
    from kubelite.apiserver.encryption.config import EncryptionConfig

log = logging.getLogger(__name__)

Obj = dict[str, Any]

_VERB_HANDLERS = {
    "get": reads.get,
    "list": reads.list_,
    "watch": watch.watch,
    "create": writes.create,
    "update": writes.update,
    "patch": writes.patch,
    "delete": writes.delete,
    "deletecollection": writes.delete_collection,
}


class APIServer:
    def __init__(self, *, backend: Backend, host: str = "127.0.0.1", port: int = 6443,
                 service_cidr: str | None = None, watch_history: int = HISTORY_SIZE,
                 compaction_interval: float = compaction.DEFAULT_INTERVAL,
                 garbage_collector: bool = False,
                 toleration_seconds: tuple[int, int] | None = None,
                 authenticator: Authenticator | None = None,
                 authorizer: Authorizer | None = None,
                 service_account_admission: bool = False,
                 ssl_context: ssl.SSLContext | None = None,
                 loopback_token: str | None = None,
                 encryption: EncryptionConfig | None = None,
                 audit: Auditor | None = None,
                 kubelet_transport: KubeletTransport | None = None) -> None:
        """`garbage_collector`: a garbage collector runs against this server, so orphan
        and foreground deletions get their finalizers (see docs/decisions.md).
        `toleration_seconds`: the not-ready and unreachable tolerationSeconds pods get by
        default (300 s each). `authenticator` and `authorizer`: who each request is and
        whether it may; without an authenticator every request is an administrator,
        which is why only tests build such a server. `service_account_admission`: run
        the ServiceAccount admission plugin (pods get their account's token volume, and
        are refused until the account exists). On in `kubelite server`; off by default,
        since a server without a serviceaccount control loop would refuse every pod for
        want of a `default` account. `ssl_context`: serve HTTPS (the CLI always does;
        kubelite.pki makes it). `loopback_token`: the bearer token of the server's own
        in-process client (upstream's loopback client), which the authenticator must
        know. `encryption`: the resources sealed at rest (encryption/); `audit`: the
        audit log (audit/). `kubelet_transport`: how pods/log, exec, attach,
        portforward and nodes/proxy reach kubelets (its client certificate); by default
        without one, which only kubelets that do not authenticate answer."""
        if encryption is not None:
            from kubelite.apiserver.encryption.backend import EncryptingBackend
            backend = EncryptingBackend(backend, encryption)
        self.backend = backend
        self.audit = audit
        self.ssl_context = ssl_context
        self.loopback_token = loopback_token
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.kubelet_transport = kubelet_transport or KubeletTransport()
        self.host = host
        self.port = port
        self.compaction_interval = compaction_interval
        self.cache = Cache(backend, history=watch_history)
        kwargs: dict[str, Any] = {"service_cidr": service_cidr} if service_cidr else {}
        if toleration_seconds is not None:
            kwargs["toleration_seconds"] = toleration_seconds
        self.registry = Registry(backend=backend, cache=self.cache, has_gc=garbage_collector,
                                 service_account_admission=service_account_admission,
                                 **kwargs)
        self.ready = False
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.aggregated = aggregation.AggregatedAPIs()
        self.compactor: compaction.Compactor | None = None  # with compaction_interval > 0
        # Resources that are only created, never stored (create_only.py): the review
        # APIs, serviceaccounts/token once a signing key is configured.
        self.create_only = create_only.CreateOnlyResources()
        self.create_only.add(self_subject_reviews())
        self.create_only.add(TokenReviews(lambda: self.authenticator).endpoint())
        # Non-resource GET paths a component serves (the OIDC discovery documents).
        self.paths: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = {}

    async def add_aggregated_api(self, api: aggregation.AggregatedAPI) -> None:
        """Serve a group-version through a component's own handler (aggregation.py),
        and keep its APIService (at once when serving, else when started)."""
        self.aggregated.add(api)
        if self.ready:
            await self._register_apiservice(api)

    @property
    def url(self) -> str:
        """Where a client on this machine reaches the server: loopback when it
        listens on every address."""
        scheme = "https" if self.ssl_context is not None else "http"
        host = self.host
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            pass  # a host name
        else:
            if address.is_unspecified:
                address = ipaddress.ip_address("127.0.0.1" if address.version == 4 else "::1")
            host = f"[{address}]" if address.version == 6 else str(address)
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        await self.backend.start()
        await self.cache.start()
        # What the API server runs itself, created after the cache has loaded and
        # before serving: the registry follows the stored CRDs from the first request
        # on; the CRD lifecycle loops read and write through the server's own
        # in-process client, as upstream's apiextensions controllers use a loopback
        # client; the reservation repair reads Services through it too but releases
        # reservations on the store (they are no API resource); the compactor works on
        # the store.
        self.crd_serving = crds.Serving(self.registry)
        self.loopback = Client(InProcessTransport(self.handle,  # type: ignore[arg-type]
                                                  token=self.loopback_token),
                               field_manager="kube-apiserver")
        self.crd_lifecycle = crd_controller.CRDLifecycle(self.loopback)
        self.reservation_repair = allocators.repair_controller(self.registry.services,
                                                               self.loopback)
        loops: dict[str, Callable[[], Coroutine[Any, Any, None]]] = {
            "crd-lifecycle": self.crd_lifecycle.run,
            "service-reservation-repair": self.reservation_repair.run,
        }
        if self.compaction_interval > 0:
            self.compactor = compaction.Compactor(self.backend, self.compaction_interval)
            loops["compaction"] = self.compactor.run
        for name, run in loops.items():
            self._tasks.append(asyncio.create_task(run(), name=name))
        app = web.Application(client_max_size=MAX_BODY_BYTES + 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True,
                           ssl_context=self.ssl_context)
        await site.start()
        if self.port == 0:
            sockets = site._server.sockets  # type: ignore[union-attr]
            self.port = sockets[0].getsockname()[1]
        # After binding: the kubernetes Service's endpoints name the port really in use.
        # /readyz answers 500 until then.
        await bootstrap(self.registry, self.host, self.port)
        for api in self.aggregated:
            await self._register_apiservice(api)
        self.ready = True

    async def _register_apiservice(self, api: aggregation.AggregatedAPI) -> None:
        """Create or refresh the APIService of an in-process group (spec and status are
        the server's to say while it serves the group)."""
        store = self.registry.store_for(aggregation.APIREGISTRATION_GROUP, "apiservices")
        wanted = aggregation.apiservice_object(api)
        name = wanted["metadata"]["name"]
        options = WriteOptions(field_manager="kube-apiserver")
        try:
            await store.create("", dict(wanted), options)
        except errors.AlreadyExists:
            pass
        current = (await store.get("", name)).obj
        if current.get("spec") != wanted["spec"]:
            current["spec"] = wanted["spec"]
            current, _ = await store.update("", name, current, options)
        conditions = (current.get("status") or {}).get("conditions") or []
        if any(c.get("type") == "Available" and c.get("status") == "True" for c in conditions):
            return  # already said; its transition time stays
        current["status"] = wanted["status"]
        await store.update("", name, current,
                           WriteOptions(field_manager="kube-apiserver", subresource="status"))

    async def stop(self) -> None:
        self.ready = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        await self.loopback.close()
        await self.kubelet_transport.close()
        await self.cache.stop()
        if self._runner is not None:
            await self._runner.cleanup()
        await self.backend.close()
        if self.audit is not None:
            self.audit.close()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            if self.audit is not None:
                return await self.audit.serve(request, self._route)
            return await self._route(request)
        except errors.StatusError as err:
            return status_response(err)
        except web.HTTPRequestEntityTooLarge:
            return status_response(errors.RequestEntityTooLarge(
                f"Request entity too large: limit is {MAX_BODY_BYTES}"))
        except (ConnectionResetError, asyncio.CancelledError):
            raise
        except Exception as exc:
            log.exception("%s %s failed", request.method, request.path_qs)
            return status_response(errors.InternalError(f"Internal error occurred: {exc}"))

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        method = request.method
        # `?watch` read as every boolean parameter is: `True`, `1` and `yes` watch too.
        info = parse_resource_path(method, path, watch_param=WATCH.decode(request.query))
        if self.authenticator is None:
            request[USER] = UNAUTHENTICATED_ADMIN
        else:
            await self._authenticate_and_authorize(request, info, path)
        if info is None:
            fixed = self._fixed_route(path)
            if fixed is not None:
                if method not in ("GET", "HEAD"):
                    raise errors.method_not_allowed()
                return await fixed(request)
            return self._discovery(request, path)
        aggregated = self.aggregated.lookup(info.group, info.version)
        if aggregated is not None:
            return await aggregated.serve(request)
        if (created := self.create_only.lookup(info)) is not None:
            return await create_only.serve(created, request, info, parse_accept(
                request.headers.get("Accept", ""), request.query.get("includeObject", "")))
        store = self.registry.lookup(info.group, info.version, info.resource)
        if store is None:
            raise errors.no_such_resource()
        spec = store.spec
        if info.namespace and not spec.namespaced:
            raise errors.no_such_resource()
        connect = pod_connect.HANDLERS.get((info.resource, info.subresource))
        if connect is not None and not info.group:
            if info.subresource == "log" and info.verb != "get":
                raise errors.method_not_allowed()
            return await connect(request, info, pod_connect.Kubelets(
                self.registry.lookup("", "v1", "pods"),  # type: ignore[arg-type]
                self.registry.lookup("", "v1", "nodes"),  # type: ignore[arg-type]
                self.kubelet_transport))
        if info.subresource and info.subresource not in spec.subresources:
            raise errors.no_such_resource()
        if not info.subresource and info.verb not in spec.verbs:
            raise errors.method_not_allowed()
        accept = parse_accept(request.headers.get("Accept", ""),
                              request.query.get("includeObject", ""))
        if info.subresource and info.verb == "get":
            if info.subresource in WHOLE_OBJECT:
                options = GetOptions.parse(request.query)
                entry = await store.get(info.namespace, info.name,
                                        resource_version=options.resource_version)
                return single_response(spec, info.version, entry, accept)
            reader = SUBRESOURCE_READS.get(info.subresource)
            if reader is None:
                raise errors.method_not_allowed()
            return await reader(request, info, store, accept)
        return await _VERB_HANDLERS[info.verb](request, info, store, accept)

    async def _authenticate_and_authorize(self, request: web.Request,
                                          info: RequestInfo | None, path: str) -> None:
        """Upstream's filter order: authentication (401 when credentials are wrong),
        impersonation (auth/impersonation.py), then authorization (403 unless an
        authorizer allows)."""
        assert self.authenticator is not None
        user = await self.authenticator.authenticate(request)
        if user is None:
            raise errors.Unauthorized("Unauthorized")
        acting = await impersonate(request.headers, user, self.authorizer)
        if acting is not user:  # audited as who authenticated, with impersonatedUser
            log_impersonated_user(request, user, acting)
        request[USER] = user = acting
        if self.authorizer is None:
            return
        selector = request.query.get("fieldSelector", "")
        attrs: Attributes = (resource_attributes(user, info, selector) if info is not None
                             else non_resource_attributes(user, request.method, path))
        decision, reason = await self.authorizer.authorize(attrs)
        request[AUTHORIZATION] = decision, reason  # the audit log's annotations
        if decision is not Decision.ALLOW:
            raise forbidden(attrs, reason)

    def _fixed_route(self, path: str
                     ) -> Callable[[web.Request], Awaitable[web.StreamResponse]] | None:
        if path == "/version":
            return self._version
        if path in ("/healthz", "/livez", "/readyz") or path.startswith(
                ("/healthz/", "/livez/", "/readyz/")):
            return self._health
        if path.startswith("/openapi/"):
            return self._openapi
        return self.paths.get(path)

    async def _openapi(self, request: web.Request) -> web.StreamResponse:
        return await openapi_handlers.serve(request, create_only.with_create_only(
            self.registry.specs(), self.create_only.specs()))

    async def _version(self, request: web.Request) -> web.StreamResponse:
        return json_response(orjson.dumps(version_info()))

    async def _health(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/readyz") and not self.ready:
            return web.Response(status=500, text="[-]kubelite-ready failed: not ready\n")
        if "verbose" in request.query:
            name = request.path.strip("/").split("/")[0]
            return web.Response(text=f"[+]ping ok\n[+]etcd ok\n{name} check passed\n")
        return web.Response(text="ok")

    def _discovery(self, request: web.Request, path: str) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            raise errors.no_such_resource()
        specs = (create_only.with_create_only(self.registry.specs(), self.create_only.specs())
                 + self.aggregated.specs())
        parts = [p for p in path.split("/") if p]
        aggregated = discovery.wants_aggregated(request.headers.get("Accept", ""))
        doc: Obj | None = None
        headers = None
        if parts == ["api"] or parts == ["apis"]:
            if aggregated:
                api_version = aggregated.split("v=", 1)[1].split(";", 1)[0]
                doc = discovery.aggregated(specs, legacy=parts == ["api"],
                                           api_version=f"apidiscovery.k8s.io/{api_version}")
                body = orjson.dumps(doc)
                return web.Response(body=body, headers={"Content-Type": aggregated,
                                                        "Vary": "Accept"})
            if parts == ["api"]:
                doc = discovery.api_versions(f"{self.host}:{self.port}")
            else:
                doc = discovery.api_group_list(specs)
        elif len(parts) == 2 and parts[0] == "api":
            doc = discovery.resource_list(specs, "", parts[1])
        elif len(parts) == 2 and parts[0] == "apis":
            doc = discovery.api_group(specs, parts[1])
        elif len(parts) == 3 and parts[0] == "apis":
            doc = discovery.resource_list(specs, parts[1], parts[2])
        if doc is None:
            raise errors.no_such_resource()
        return json_response(orjson.dumps(doc), headers=headers)
