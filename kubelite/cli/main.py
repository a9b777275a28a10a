"""`kubelite`: the command line. The one place that wires components together.

    kubelite server [--data-dir DIR] [--bind-address 127.0.0.1] [--port 6443]
                    [--datastore-endpoint sqlite:///path | http://etcd:2379,...]
                    [--simulated-nodes N] [--metric-resolution 15s]
                    [--disable scheduler|controller-manager|metrics-server|LOOP]
                    [--scheduler-config FILE] [--cluster-cidr 10.42.0.0/16]
                    [--node-cidr-mask-size 24] [--node-monitor-grace-period 40]
                    [--default-not-ready-toleration-seconds 300]
                    [--default-unreachable-toleration-seconds 300]
                    [--disable-admission-plugins ServiceAccount,NodeRestriction]
                    [--root-ca-file FILE] [--authorization-mode Node,RBAC]
                    [--tls-san NAME,...] [--token-auth-file FILE]
    kubelite certificate rotate [--data-dir DIR]
    kubelite token create|list|delete [--kubeconfig FILE] ...
    kubelite image import FILE... | ls | rm REF... | pull REF  [--data-dir DIR]
    kubelite agent --simulate N --kubeconfig FILE [--name-prefix sim-]
                   [--node-lease-duration-seconds 40]
    kubelite agent --kubeconfig FILE [--server URL] [--node-name NAME] [--runtime auto|host]
    kubelite scheduler --kubeconfig FILE [--config FILE]
    kubelite controller-manager --kubeconfig FILE [--controllers '*,-replicaset'] [--data-dir DIR]
                                [--root-ca-file FILE] [--cluster-signing-cert-file FILE
                                --cluster-signing-key-file FILE] [--cluster-signing-duration 8760h]

The server runs the scheduler and the controller manager in its own process over the
in-process transport unless `--disable scheduler` / `--disable controller-manager`,
and a kubelet for its own host (cli/node.py) unless `--disable-agent`;
`--disable replicaset` (any loop's name) leaves out one loop. The metrics server
(kubelite/metrics) scrapes the kubelets every --metric-resolution and serves
metrics.k8s.io through the API server, unless `--disable metrics-server`. Orphan and Foreground
deletes get their finalizers only while the server's own manager runs `garbagecollector`
(docs/decisions.md). The server runs the ServiceAccount admission plugin (pods get their
account's token volume) unless `--disable-admission-plugins ServiceAccount`, and
NodeRestriction (a kubelet writes only its own Node, pods and leases) unless
`--disable-admission-plugins NodeRestriction`;
`--root-ca-file` is the CA bundle the root-ca-cert-publisher loop puts in every
namespace's kube-root-ca.crt ConfigMap (without it that loop does nothing). `kubelite scheduler` and
`kubelite controller-manager` run them alone against any API server. The scheduler reads
a KubeSchedulerConfiguration (profiles, plugins, weights, plugin args) with
`--scheduler-config` / `--config`; a file with mistakes stops the command before anything
starts, listing every mistake on stderr.

The server speaks HTTPS only, with the certificates kubelite.pki keeps under
<data-dir>/tls, and authenticates every request: client certificates of the
cluster's client CA, the tokens of --token-auth-file, and the tokens of its own
in-process components (identities.py). It listens on loopback unless
--bind-address says otherwise. `kubelite certificate rotate` renews the leaf
certificates at once (they are renewed on start within 90 days of expiry).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import datetime
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kubelite.apiserver.watchcache import HISTORY_SIZE
from kubelite.cli import at_rest_and_audit, bootstrap_tokens, csr_signing, images, node
from kubelite.controllers.names import LOOP_NAMES

if TYPE_CHECKING:
    from kubelite.apiserver.auth.serviceaccount.options import ServiceAccountOptions
    from kubelite.client.rest import Client
    from kubelite.controllers.node_settings import NodeSettings
    from kubelite.controllers.settings import LoopSettings
    from kubelite.kubelet.simulated import NodeConfig
    from kubelite.scheduler.config import SchedulerConfiguration

log = logging.getLogger("kubelite")

# what `kubelite server --disable` can leave out: whole components, or single loops
COMPONENTS = ("scheduler", "controller-manager", "metrics-server", *LOOP_NAMES)
# what --disable-admission-plugins may name: the rest of the chain is always on
OPTIONAL_ADMISSION_PLUGINS = ("ServiceAccount", "NodeRestriction")


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/kubelite")
    return Path.home() / ".local/share/kubelite"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubelite", description="A lightweight Kubernetes")
    sub = parser.add_subparsers(dest="command", required=True)
    server = sub.add_parser("server", help="run the control plane")
    server.add_argument("--data-dir", type=Path, default=None,
                        help="where the cluster's state lives (default /var/lib/kubelite "
                             "as root, ~/.local/share/kubelite otherwise)")
    server.add_argument("--bind-address", default="127.0.0.1")
    server.add_argument("--port", type=int, default=6443)
    server.add_argument("--datastore-endpoint", default="",
                        help="sqlite:///path/to/db (default: <data-dir>/db/state.db) or "
                             "etcd URLs, comma separated (http://127.0.0.1:2379)")
    server.add_argument("--service-cidr", default="10.43.0.0/16")
    server.add_argument("--tls-san", action="append", default=[], metavar="NAME",
                        help="another host name or IP address for the serving "
                             "certificate (repeatable, comma separated)")
    server.add_argument("--token-auth-file", type=Path, default=None, metavar="FILE",
                        help="static bearer tokens: upstream's CSV of "
                             "token,user,uid[,\"group1,group2\"]")
    server.add_argument("--authorization-mode", default="Node,RBAC",
                        help="authorizers, comma separated, asked in order after "
                             "system:masters: Node, RBAC, AlwaysAllow (default "
                             "Node,RBAC)")
    server.add_argument("--watch-cache-history", type=int, default=HISTORY_SIZE,
                        help="events kept per resource for watches that resume from an "
                             "older resourceVersion; older ones get 410 Gone")
    server.add_argument("--compaction-interval", type=float, default=300.0,
                        help="seconds between store compactions (0: never)")
    server.add_argument("--simulated-nodes", type=int, default=0, metavar="N",
                        help="run N simulated nodes (sim-0 ...) in the server process")
    _add_simulated_node_flags(server)
    server.add_argument("--disable", action="append", default=[], choices=COMPONENTS,
                        metavar="COMPONENT",
                        help="do not run this in-process component (repeatable): "
                             + ", ".join(COMPONENTS))
    server.add_argument("--metric-resolution", type=_go_duration, default=15.0,
                        metavar="DURATION",
                        help="how often the metrics server scrapes the kubelets "
                             "(a Go duration; default 15s)")
    _add_loop_flags(server)
    _add_node_loop_flags(server)
    admission = server.add_argument_group("admission")
    admission.add_argument("--default-not-ready-toleration-seconds", type=int, default=300,
                           metavar="SECONDS",
                           help="tolerationSeconds of the not-ready:NoExecute toleration "
                                "every pod gets unless it has one")
    admission.add_argument("--default-unreachable-toleration-seconds", type=int, default=300,
                           metavar="SECONDS",
                           help="tolerationSeconds of the unreachable:NoExecute toleration "
                                "every pod gets unless it has one")
    admission.add_argument("--disable-admission-plugins", default="", metavar="NAMES",
                           help="admission plugins to leave out, comma separated "
                                "(only " + ", ".join(OPTIONAL_ADMISSION_PLUGINS)
                                + " can be)")
    _add_service_account_flags(server)
    server.add_argument("--scheduler-config", type=Path, default=None, metavar="FILE",
                        help="KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) "
                             "for the in-process scheduler")
    server.add_argument("--terminated-pod-gc-threshold", type=int, default=12500, metavar="N",
                        help="finished pods kept before the pod garbage collector deletes "
                             "the oldest (0: never)")
    server.add_argument("--log-level", default="INFO")
    at_rest_and_audit.add_flags(server)
    node.add_flags(server, server=True)
    certificate = sub.add_parser("certificate", help="manage the cluster's certificates")
    certificate_sub = certificate.add_subparsers(dest="certificate_command", required=True)
    rotate = certificate_sub.add_parser(
        "rotate", help="renew every leaf certificate now (the CAs are kept); restart "
                       "the server afterwards to serve the new ones")
    rotate.add_argument("--data-dir", type=Path, default=None,
                        help="the server's data dir (same default as kubelite server)")
    rotate.add_argument("--log-level", default="INFO")
    bootstrap_tokens.add_parser(sub, str(default_data_dir() / "kubeconfig"))
    images.add_parser(sub)
    agent = sub.add_parser("agent", help="run nodes that join a cluster")
    agent.add_argument("--simulate", type=int, default=0, metavar="N",
                       help="run N simulated nodes instead of a kubelet for this host")
    agent.add_argument("--kubeconfig", type=Path, default=None,
                       help="how to reach the API server (or --server with --token)")
    agent.add_argument("--server", default="", metavar="URL",
                       help="the API server's URL, in place of the kubeconfig's")
    agent.add_argument("--token", default="",
                       help="a bootstrap token (kubelite token create) to join with: the "
                            "node trusts the CA the token signed and gets its own client "
                            "certificate, kept in <data-dir>/agent/kubelet.kubeconfig")
    agent.add_argument("--ca-cert-hash", action="append", default=[], metavar="sha256:HEX",
                       help="the cluster CA's public key pin (kubeadm's "
                            "--discovery-token-ca-cert-hash); repeatable")
    agent.add_argument("--kubelet-client-ca-file", type=Path, default=None,
                       help="CA bundle whose client certificates the kubelet's server "
                            "accepts (the API server's; without it, callers need tokens)")
    agent.add_argument("--data-dir", type=Path, default=None,
                       help="where the kubelet keeps pods' logs and runtime state "
                            "(<data-dir>/agent; same default as kubelite server)")
    node.add_flags(agent, server=False)
    agent.add_argument("--name-prefix", default="sim-",
                       help="node names are <prefix>0 ... <prefix>N-1")
    _add_simulated_node_flags(agent)
    agent.add_argument("--log-level", default="INFO")
    scheduler = sub.add_parser("scheduler", help="run the scheduler against a cluster")
    scheduler.add_argument("--kubeconfig", type=Path, default=None,
                           help="how to reach the API server (default: the config "
                                "file's clientConnection.kubeconfig)")
    scheduler.add_argument("--config", type=Path, default=None, metavar="FILE",
                           help="KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): "
                                "profiles, plugins, weights, plugin args, leader election")
    scheduler.add_argument("--log-level", default="INFO")
    manager = sub.add_parser("controller-manager",
                             help="run the control loops against a cluster")
    manager.add_argument("--kubeconfig", type=Path, required=True,
                         help="how to reach the API server")
    manager.add_argument("--controllers", default="*",
                         help="loops to run, comma separated: '*' for all, NAME to add, "
                              "-NAME to leave out (" + ", ".join(LOOP_NAMES) + ")")
    manager.add_argument("--terminated-pod-gc-threshold", type=int, default=12500, metavar="N",
                         help="finished pods kept before the pod garbage collector deletes "
                              "the oldest (0: never)")
    manager.add_argument("--data-dir", type=Path, default=None,
                         help="local-path volumes go to <data-dir>/storage (default: "
                              "/var/lib/kubelite as root, else ~/.local/share/kubelite)")
    manager.add_argument("--cluster-cidr", default="10.42.0.0/16",
                         help="the CIDR (or IPv4,IPv6 pair) node pod CIDRs are cut from")
    manager.add_argument("--node-cidr-mask-size", type=int, default=24, metavar="BITS",
                         help="prefix length of each node's IPv4 pod CIDR")
    _add_node_loop_flags(manager)
    _add_loop_flags(manager)
    manager.add_argument("--log-level", default="INFO")
    return parser


def _add_service_account_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("service account tokens")
    group.add_argument("--service-account-key-file", type=Path, default=None, metavar="FILE",
                       help="PEM private key (RSA or EC) that signs and verifies ServiceAccount "
                            "tokens (default <data-dir>/tls/service.key, made on first start)")
    group.add_argument("--service-account-issuer", action="append", default=None,
                       metavar="URL",
                       help="issuer of ServiceAccount tokens; repeat to accept more, the "
                            "first issues (default https://kubernetes.default.svc.cluster.local)")
    group.add_argument("--api-audiences", default="", metavar="LIST",
                       help="comma-separated audiences the API accepts tokens for "
                            "(default: the issuers)")
    group.add_argument("--service-account-max-token-expiration", type=_go_duration,
                       default=0.0, metavar="DURATION",
                       help="longest token a TokenRequest gets (a Go duration; default: "
                            "no limit)")


def service_account_options(args: argparse.Namespace) -> ServiceAccountOptions:
    from kubelite.apiserver.auth.serviceaccount.options import ServiceAccountOptions

    return ServiceAccountOptions.from_flags(
        data_dir=args.data_dir or default_data_dir(), key_file=args.service_account_key_file,
        issuers=args.service_account_issuer, api_audiences=args.api_audiences,
        max_token_expiration=args.service_account_max_token_expiration)


def _add_node_loop_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("node lifecycle")
    group.add_argument("--node-monitor-period", type=float, default=5.0, metavar="SECONDS",
                       help="how often every node's heartbeat is checked")
    group.add_argument("--node-monitor-grace-period", type=float, default=40.0,
                       metavar="SECONDS",
                       help="a node silent this long goes Ready=Unknown and unreachable")
    group.add_argument("--node-startup-grace-period", type=float, default=60.0,
                       metavar="SECONDS",
                       help="the same for a node that never posted its status")


def node_settings(args: argparse.Namespace) -> NodeSettings:
    """The node loops' settings from the flags; ValueError names a bad flag."""
    from kubelite.controllers.node_settings import NodeSettings

    return NodeSettings(monitor_period=args.node_monitor_period,
                        monitor_grace_period=args.node_monitor_grace_period,
                        startup_grace_period=args.node_startup_grace_period,
                        cluster_cidrs=tuple(c.strip() for c in args.cluster_cidr.split(",")),
                        node_cidr_mask_ipv4=args.node_cidr_mask_size)


def _go_duration(text: str) -> float:
    from kubelite.api.protobuf.wellknown import parse_duration

    try:
        seconds = parse_duration(text) / 1e9
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (15s, 500ms)") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return seconds


def _add_loop_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("control loops")
    group.add_argument("--horizontal-pod-autoscaler-sync-period", type=_go_duration,
                       default=15.0, metavar="DURATION",
                       help="how often each HorizontalPodAutoscaler is synced (default 15s)")
    group.add_argument("--horizontal-pod-autoscaler-downscale-stabilization",
                       type=_go_duration, default=300.0, metavar="DURATION",
                       help="how long an HPA without behavior looks back before scaling "
                            "down (default 5m0s)")
    group.add_argument("--root-ca-file", type=Path, default=None, metavar="FILE",
                       help="CA bundle published as every namespace's kube-root-ca.crt "
                            "ConfigMap (root-ca-cert-publisher; without it that loop does "
                            "nothing)")
    group.add_argument("--cluster-signing-duration", type=_go_duration, default=365 * 86400.0,
                       metavar="DURATION",
                       help="the longest certificate the CSR signers sign (default 8760h0m0s)")
    csr_signing.add_flags(group)


def loop_settings(args: argparse.Namespace, storage_dir: Path) -> LoopSettings:
    """What the loops' flags say (args.node_settings checked already)."""
    from kubelite.controllers.settings import LoopSettings

    return LoopSettings(
        terminated_pod_gc_threshold=args.terminated_pod_gc_threshold, storage_dir=storage_dir,
        node=args.node_settings, hpa_sync_period=args.horizontal_pod_autoscaler_sync_period,
        hpa_downscale_stabilization=args.horizontal_pod_autoscaler_downscale_stabilization,
        root_ca_pem=getattr(args, "root_ca_pem", None),
        csr_signing_files=getattr(args, "csr_signing_files", {}),
        cluster_signing_duration=args.cluster_signing_duration)


def _add_simulated_node_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("simulated nodes")
    group.add_argument("--node-cpu", default="32", help="cpu capacity of a simulated node")
    group.add_argument("--node-memory", default="256Gi",
                       help="memory capacity of a simulated node")
    group.add_argument("--node-pods", default="110", help="pods a simulated node takes")
    group.add_argument("--node-ephemeral-storage", default="100Gi",
                       help="ephemeral-storage capacity of a simulated node")
    group.add_argument("--cluster-cidr", default="10.42.0.0/16",
                       help="pod CIDR the simulated nodes' /24s are cut from (it must "
                            "hold one /24 per node: 10.64.0.0/10 for up to 16384); the "
                            "server's nodeipam loop cuts other nodes' from it too")
    group.add_argument("--node-cidr-mask-size", type=int, default=24, metavar="BITS",
                       help="prefix length of each node's pod CIDR")
    group.add_argument("--node-lease-duration-seconds", type=int, default=40,
                       metavar="SECONDS",
                       help="a simulated node's Lease duration; it renews every quarter "
                            "of it")


def simulated_node_config(args: argparse.Namespace, count: int,
                          name_prefix: str = "sim-") -> NodeConfig:
    from kubelite.kubelet.simulated import NodeConfig
    from kubelite.machinery.quantity import parse_quantity

    for flag, value in (("--node-cpu", args.node_cpu), ("--node-memory", args.node_memory),
                        ("--node-pods", args.node_pods),
                        ("--node-ephemeral-storage", args.node_ephemeral_storage)):
        try:
            parse_quantity(value)
        except ValueError:
            raise ValueError(f"{flag}: {value!r} is not a quantity") from None
    if args.node_lease_duration_seconds <= 0:
        raise ValueError("--node-lease-duration-seconds must be positive")
    lease = args.node_lease_duration_seconds
    return NodeConfig(count=count, name_prefix=name_prefix, cpu=args.node_cpu,
                      memory=args.node_memory, pods=args.node_pods,
                      ephemeral_storage=args.node_ephemeral_storage,
                      cluster_cidr=args.cluster_cidr.split(",")[0].strip(),
                      node_cidr_mask=args.node_cidr_mask_size,
                      lease_duration_seconds=lease, renew_interval=lease * 0.25)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "certificate":
        return rotate_certificates(args.data_dir or default_data_dir())
    if args.command == "token":
        return asyncio.run(bootstrap_tokens.run(args))
    if args.command == "image":
        return images.run(args, args.data_dir or default_data_dir())
    if args.command == "server":
        try:
            config = simulated_node_config(args, args.simulated_nodes)
            args.kubelet = None
            if not args.disable_agent:
                args.kubelet = node.kubelet_config(args, args.data_dir or default_data_dir())
                args.runtime = node.choose_runtime(
                    args.runtime, args.kubelet.container_runtime_endpoint)
            args.node_settings = node_settings(args)
            args.disabled_admission = disabled_admission_plugins(args.disable_admission_plugins)
            args.root_ca_pem = root_ca_pem(args)
            args.service_accounts = service_account_options(args)
        except ValueError as err:
            print(f"kubelite: {err}", file=sys.stderr)
            return 2
        for flag in ("default_not_ready_toleration_seconds",
                     "default_unreachable_toleration_seconds"):
            if getattr(args, flag) < 0:
                print(f"kubelite: --{flag.replace('_', '-')} must be >= 0", file=sys.stderr)
                return 2
        args.scheduler_configuration = None
        if args.scheduler_config is not None:
            if (loaded := load_scheduler_configuration(args.scheduler_config)) is None:
                return 2
            args.scheduler_configuration = loaded
        args.static_tokens = None
        if args.token_auth_file is not None:
            from kubelite.apiserver.auth.authn import StaticTokens

            try:
                args.static_tokens = StaticTokens.from_file(args.token_auth_file)
            except (OSError, ValueError) as err:
                print(f"kubelite: --token-auth-file: {err}", file=sys.stderr)
                return 2
        try:
            args.encryption, args.audit = at_rest_and_audit.load(args)
        except ValueError as err:
            print(f"kubelite: {err}", file=sys.stderr)
            return 2
        _install_uvloop()
        from kubelite.cli.server import run_server

        return asyncio.run(run_server(args, config))
    if args.command == "agent":
        if args.kubeconfig is None and not (args.token and args.server):
            print("kubelite: agent needs --kubeconfig, or --server with --token", file=sys.stderr)
            return 2
        try:
            config = simulated_node_config(args, args.simulate, args.name_prefix)
            if not args.simulate:
                args.kubelet = node.kubelet_config(args, args.data_dir or default_data_dir())
                args.runtime = node.choose_runtime(
                    args.runtime, args.kubelet.container_runtime_endpoint)
        except ValueError as err:
            print(f"kubelite: {err}", file=sys.stderr)
            return 2
        _install_uvloop()
        if not args.simulate:
            return asyncio.run(run_node_agent(args))
        return asyncio.run(run_agent(args, config))
    if args.command == "scheduler":
        configuration = None
        if args.config is not None:
            if (configuration := load_scheduler_configuration(args.config)) is None:
                return 2
        kubeconfig = args.kubeconfig or (configuration.kubeconfig if configuration else "")
        if not kubeconfig:
            print("kubelite: scheduler: --kubeconfig is required (or clientConnection."
                  "kubeconfig in --config)", file=sys.stderr)
            return 2
        _install_uvloop()
        return asyncio.run(run_scheduler(kubeconfig, configuration))
    if args.command == "controller-manager":
        from kubelite.controllers.manager import UnknownController, enabled_loops

        try:
            enabled_loops(args.controllers.split(","))
        except UnknownController as err:
            print(f"kubelite: --controllers: {err}", file=sys.stderr)
            return 2
        try:
            args.node_settings = node_settings(args)
            args.root_ca_pem = root_ca_pem(args)
            args.csr_signing_files = csr_signing.signing_files(args)
        except ValueError as err:
            print(f"kubelite: {err}", file=sys.stderr)
            return 2
        _install_uvloop()
        return asyncio.run(run_controller_manager(args))
    return 2


def tune_gc() -> None:
    """Garbage collection for a long-running control-plane process: what exists once
    the process has started (the schemas, the loaded watch cache, modules) lives as
    long as it does, so it is frozen out of every later collection. A full collection
    walks every tracked object and stops the event loop meanwhile; with the schemas
    alone that was half the objects it walked. Thresholds stay Python's: collecting
    less often bought a little speed for a lot of memory."""
    gc.freeze()


def _install_uvloop() -> None:
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _report_failure(task: asyncio.Task[None]) -> None:
    """The server keeps serving if an in-process component fails; the log says why."""
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())


async def _stop(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    except Exception:
        pass  # _report_failure logged it when it happened


async def run_agent(args: argparse.Namespace, config: NodeConfig) -> int:
    from kubelite.kubelet.simulated import SimulatedNodes

    return await _run_standalone(
        args.kubeconfig, "kubelite-kubelet", "simulated nodes",
        lambda client: SimulatedNodes(client, config).run(), server=args.server)


async def run_node_agent(args: argparse.Namespace) -> int:
    """`kubelite agent` without --simulate: a kubelet for this host, against the server
    the kubeconfig (or --server) names, with the kubeconfig's credentials; with --token,
    the node first joins (kubelet/join.py) and keeps the credentials it got."""
    kubeconfig = args.kubeconfig
    if args.token:
        try:
            kubeconfig = await node.joined_kubeconfig(
                args.server, args.token, args.kubelet, tuple(args.ca_cert_hash))
        except node.JoinError as err:
            print(f"kubelite: joining {args.server}: {err}", file=sys.stderr)
            return 1
    client_ca = args.kubelet_client_ca_file.read_bytes() if args.kubelet_client_ca_file else None
    return await _run_standalone(
        str(kubeconfig), "kubelet", "kubelet",
        lambda client: node.build_node(client, args.kubelet, args.runtime,
                                       client_ca=client_ca).run(),
        server=args.server)


def load_scheduler_configuration(path: Path) -> SchedulerConfiguration | None:
    """The file's configuration, or None after printing every mistake in it to stderr."""
    from kubelite.scheduler.config import InvalidConfiguration, load_file

    try:
        configuration = load_file(path)
    except InvalidConfiguration as err:
        print(f"kubelite: {err.report()}", file=sys.stderr)
        return None
    return configuration


def scheduler_options(configuration: SchedulerConfiguration | None) -> dict[str, Any]:
    """KubeScheduler's keyword arguments from a configuration (none: its defaults)."""
    if configuration is None:
        return {}
    election = configuration.leader_election
    return {"profiles": configuration.profiles, "leader_elect": election.leader_elect,
            "lease_name": election.resource_name, "lease_namespace": election.resource_namespace,
            "lease_duration": election.lease_duration, "renew_deadline": election.renew_deadline,
            "retry_period": election.retry_period,
            "pod_initial_backoff": float(configuration.pod_initial_backoff_seconds),
            "pod_max_backoff": float(configuration.pod_max_backoff_seconds)}


async def run_scheduler(kubeconfig: str | Path,
                        configuration: SchedulerConfiguration | None = None) -> int:
    from kubelite.scheduler.scheduler import KubeScheduler

    options = scheduler_options(configuration)
    return await _run_standalone(str(kubeconfig), "kube-scheduler", "scheduler",
                                 lambda client: KubeScheduler(client, **options).run())


async def run_controller_manager(args: argparse.Namespace) -> int:
    from kubelite.controllers.manager import FIELD_MANAGER, ControllerManager

    controllers = args.controllers.split(",")
    storage_dir = (args.data_dir or default_data_dir()) / "storage"
    return await _run_standalone(
        args.kubeconfig, FIELD_MANAGER, "controller manager",
        lambda client: ControllerManager(
            client, controllers=controllers,
            settings=loop_settings(args, storage_dir)).run())


def disabled_admission_plugins(names: str) -> frozenset[str]:
    """--disable-admission-plugins as a set; ValueError for a plugin that must run."""
    disabled = frozenset(n.strip() for n in names.split(",") if n.strip())
    for name in sorted(disabled - set(OPTIONAL_ADMISSION_PLUGINS)):
        raise ValueError(f"--disable-admission-plugins: {name!r} cannot be disabled (only "
                         + ", ".join(OPTIONAL_ADMISSION_PLUGINS) + " can)")
    return disabled


def root_ca_pem(args: argparse.Namespace) -> str | None:
    """--root-ca-file's text, checked to hold certificates; None without the flag."""
    from kubelite.cli.root_ca import read_root_ca

    return None if args.root_ca_file is None else read_root_ca(args.root_ca_file)


async def _run_standalone(kubeconfig: str, field_manager: str, what: str,
                          component: Callable[[Client], Coroutine[Any, Any, None]],
                          server: str = "") -> int:
    """Run one component against the API server a kubeconfig names (at `server`, when
    given), until it fails (exit 1), a bad kubeconfig (exit 2), or SIGTERM / Ctrl-C
    (exit 0)."""
    import dataclasses

    from kubelite.client.kubeconfig import ConfigError, load_kubeconfig
    from kubelite.client.rest import Client

    try:
        loaded = load_kubeconfig(kubeconfig)
        if server:
            loaded = dataclasses.replace(loaded, server=server)
        client = Client(loaded.transport(), namespace=loaded.namespace,
                        field_manager=field_manager)
    except (ConfigError, OSError) as err:
        print(f"kubelite: {err}", file=sys.stderr)
        return 2
    tune_gc()
    task = asyncio.create_task(component(client), name=what)
    waiter = asyncio.create_task(_until_signalled())
    done, _ = await asyncio.wait((task, waiter), return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    code = 0
    if task in done:
        try:
            task.result()
        except Exception as err:
            print(f"kubelite: {what} stopped: {err}", file=sys.stderr)
            code = 1
    else:
        print("kubelite: stopping", flush=True)
        await _stop(task)
    await client.close()
    return code


def rotate_certificates(data_dir: Path) -> int:
    """`kubelite certificate rotate`: every leaf reissued, the CAs kept."""
    from kubelite.pki.cluster import ClusterTLS

    try:
        issued = ClusterTLS(data_dir / "tls").rotate(now=datetime.datetime.now(datetime.UTC))
    except (OSError, ValueError) as err:
        print(f"kubelite: {err}", file=sys.stderr)
        return 1
    print(f"kubelite: renewed {', '.join(issued)} in {data_dir / 'tls'}; restart the "
          f"server to serve them (it rewrites the admin kubeconfig)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
