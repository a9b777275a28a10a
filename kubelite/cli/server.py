"""`kubelite server`: the API server with, in its own process, the controller manager,
the scheduler, the metrics server, simulated nodes and a node of its own (cli/node.py),
each a client of the API over the in-process transport with an identity of its own
(identities.py). main.py reads the flags; this module starts and stops the parts.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelite.cli import csr_signing, node
from kubelite.cli.kubeconfig import write_kubeconfig
from kubelite.cli.component_flags import loop_settings
from kubelite.cli.main import default_data_dir
from kubelite.cli.standalone import report_failure, scheduler_options, stop_task, tune_gc
from kubelite.controllers.names import GC_LOOP, LOOP_NAMES

if TYPE_CHECKING:
    from kubelite.kubelet.simulated import NodeConfig
    from kubelite.pki.cluster import ClusterTLS

log = logging.getLogger("kubelite")


def server_controllers(disabled: list[str]) -> list[str] | None:
    """The --controllers list of the server's controller manager; None: run none."""
    if "controller-manager" in disabled:
        return None
    return ["*", *(f"-{name}" for name in LOOP_NAMES if name in disabled)]


def runs_garbage_collector(controllers: list[str] | None) -> bool:
    """Whether the server's own controller manager runs the garbagecollector loop."""
    return controllers is not None and f"-{GC_LOOP}" not in controllers


def server_tls(args: argparse.Namespace, data_dir: Path) -> ClusterTLS:
    """The cluster's certificates, made or renewed as due; ValueError says why not."""
    from kubelite.pki.cluster import ClusterTLS, serving_alt_names

    extra = [name for flag in args.tls_san for name in flag.split(",") if name.strip()]
    names = serving_alt_names(bind_address=args.bind_address,
                              service_cidr=args.service_cidr, extra=extra)
    tls = ClusterTLS(data_dir / "tls")
    issued = tls.ensure(names, now=datetime.datetime.now(datetime.UTC))
    if issued:
        log.info("issued certificates in %s: %s", tls.directory, ", ".join(issued))
    return tls


async def configure_server_authorization(server: Any, modes: str) -> None:
    """--authorization-mode. Only a server that authenticates authorizes: without an
    authenticator every request is an administrator, and the review API
    (authorization.k8s.io) answers so, from AlwaysAllow."""
    from kubelite.apiserver.authorization import configure_authorization, parse_modes

    try:
        wanted = parse_modes(modes)
    except ValueError as err:
        raise SystemExit(f"kubelite server: {err}") from None
    if server.authenticator is None:
        wanted = ("AlwaysAllow",)
    await configure_authorization(server, wanted)


async def run_server(args: argparse.Namespace, config: NodeConfig) -> int:
    from kubelite.apiserver.app import APIServer
    from kubelite.apiserver.auth.authn import (
        AuthenticatorChain,
        BearerTokenAuthenticator,
        join_chain,
    )
    from kubelite.apiserver.auth.bootstrap_token import BootstrapTokenAuthenticator
    from kubelite.apiserver.auth.serviceaccount.authenticator import CachedObjects
    from kubelite.apiserver.auth.x509 import X509Authenticator
    from kubelite.apiserver.kubelet_proxy import KubeletTransport
    from kubelite.cli import identities
    from kubelite.client.inprocess import InProcessTransport
    from kubelite.client.rest import Client
    from kubelite.pki.cluster import ADMIN, CLIENT_CA
    from kubelite.apiserver.auth.serviceaccount.options import install
    from kubelite.storage.factory import open_backend

    data_dir: Path = args.data_dir or default_data_dir()
    try:
        tls = server_tls(args, data_dir)
    except (OSError, ValueError) as err:
        print(f"kubelite: certificates: {err}", file=sys.stderr)
        return 2
    try:
        args.csr_signing_files = csr_signing.signing_files(args, tls)
    except ValueError as err:
        print(f"kubelite: {err}", file=sys.stderr)
        return 2
    if args.root_ca_pem is None:
        # the kube-root-ca.crt every namespace gets: the CA that signed the serving
        # certificate, so pods can verify the API server (upstream's --root-ca-file)
        args.root_ca_pem = tls.ca_pem().decode()
    (data_dir / "db").mkdir(parents=True, exist_ok=True)
    endpoint = args.datastore_endpoint or f"sqlite://{data_dir / 'db' / 'state.db'}"
    controllers = server_controllers(args.disable)
    # Authentication is always on: client certificates, then bearer tokens (the token
    # file's, and the in-process components' own, made fresh at every start).
    tokens = identities.ComponentTokens()
    token_authenticators = [tokens.authenticator()]
    if args.static_tokens is not None:
        token_authenticators.insert(0, args.static_tokens)
    authenticator = AuthenticatorChain([X509Authenticator(),
                                        BearerTokenAuthenticator(token_authenticators)])
    # the server adds orphan/foregroundDeletion finalizers only when its own controller
    # manager runs the garbage collector, which removes them (docs/decisions.md)
    server = APIServer(backend=open_backend(endpoint), host=args.bind_address,
                       port=args.port, service_cidr=args.service_cidr,
                       watch_history=args.watch_cache_history,
                       compaction_interval=args.compaction_interval,
                       garbage_collector=runs_garbage_collector(controllers),
                       toleration_seconds=(args.default_not_ready_toleration_seconds,
                                           args.default_unreachable_toleration_seconds),
                       service_account_admission="ServiceAccount" not in args.disabled_admission,
                       authenticator=authenticator, ssl_context=tls.server_context(),
                       loopback_token=tokens.token(identities.APISERVER),
                       encryption=args.encryption, audit=args.audit,
                       kubelet_transport=KubeletTransport(tls.kubelet_client_context()))
    # ServiceAccount tokens: serviceaccounts/token, the OIDC discovery documents, and the
    # authenticator of the tokens, last among the chain's bearer-token authenticators.
    join_chain(server.authenticator, install(server, args.service_accounts))
    # Bootstrap tokens (`kubelite token create`) after them, as upstream orders them.
    join_chain(server.authenticator, BootstrapTokenAuthenticator(CachedObjects(server.registry)))
    await configure_server_authorization(server, args.authorization_mode)
    if "NodeRestriction" not in args.disabled_admission:
        from kubelite.apiserver.admission.node_restriction import NodeRestriction

        server.registry.admission.add_mutating(NodeRestriction(stores=server.registry))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    tune_gc()
    cert_pem, key_pem = tls.credentials(ADMIN)
    kubeconfig = write_kubeconfig(data_dir / "kubeconfig", server.url, ca_pem=tls.ca_pem(),
                                  cert_pem=cert_pem, key_pem=key_pem)
    print(f"kubelite: API server listening on {server.url}", flush=True)
    print(f"kubelite: admin kubeconfig written to {kubeconfig}", flush=True)
    components: list[asyncio.Task[None]] = []

    def client(component: str, field_manager: str) -> Client:
        """An in-process client authenticated as `component`."""
        # handle() takes the BaseRequest the transport builds (typed as web.Request).
        transport = InProcessTransport(server.handle,  # type: ignore[arg-type]
                                       token=tokens.token(component))
        return Client(transport, field_manager=field_manager)

    # what nodes joining with a bootstrap token read first (kubeadm's cluster-info)
    from kubelite.cli import cluster_info

    await cluster_info.publish(client(identities.APISERVER, "kubelite"), server.url, tls.ca_pem(),
                               tls.ca_pem(CLIENT_CA))
    if "scheduler" not in args.disable:
        from kubelite.scheduler.scheduler import KubeScheduler

        scheduler = KubeScheduler(client(identities.SCHEDULER, "kube-scheduler"),
                                  **scheduler_options(args.scheduler_configuration))
        components.append(asyncio.create_task(scheduler.run(), name="scheduler"))
    if controllers is not None:
        from kubelite.controllers.manager import FIELD_MANAGER, ControllerManager

        manager = ControllerManager(
            client(identities.CONTROLLER_MANAGER, FIELD_MANAGER), controllers=controllers,
            settings=loop_settings(args, data_dir / "storage"))
        components.append(asyncio.create_task(manager.run(), name="controller manager"))
    simulated = None
    if config.count:
        from kubelite.kubelet.simulated import SimulatedNodes

        simulated = SimulatedNodes(client(identities.SIMULATED_NODES, "kubelite-kubelet"),
                                   config)
    if "metrics-server" not in args.disable:
        from kubelite.metrics import MetricsServer

        # the simulated kubelets' endpoint is asked in process, without a socket
        local: list[Callable[[str], str | None]] = (
            [simulated.endpoint.local_get] if simulated and simulated.endpoint else [])
        from kubelite.metrics.kubelet_fetch import KubeletFetch

        # real kubelets are asked over HTTPS with the metrics server's own token
        metrics = MetricsServer(client(identities.METRICS_SERVER, "metrics-server"),
                                resolution=args.metric_resolution, local=local,
                                fetch=KubeletFetch(token=tokens.token(identities.METRICS_SERVER)))
        await server.add_aggregated_api(metrics.api)
        components.append(asyncio.create_task(metrics.run(), name="metrics server"))
    if simulated is not None:
        components.append(asyncio.create_task(simulated.run(), name="simulated nodes"))
    if args.kubelet is not None:
        # the node's own identity: system:node:<name> in system:nodes, as the Node
        # authorizer and NodeRestriction know a kubelet
        transport = InProcessTransport(server.handle,  # type: ignore[arg-type]
                                       token=tokens.node_token(args.kubelet.node_name))
        own_node = node.build_node(Client(transport, field_manager="kubelet"), args.kubelet,
                                   args.runtime, client_ca=tls.ca_pem(CLIENT_CA))
        components.append(asyncio.create_task(own_node.run(), name="kubelet"))
    for task in components:
        task.add_done_callback(report_failure)
    print(f"kubelite: ready (KUBECONFIG={kubeconfig} kubectl get ns)", flush=True)
    await stop.wait()
    print("kubelite: stopping", flush=True)
    for task in reversed(components):
        await stop_task(task)
    await server.stop()
    return 0
