"""`kubelite`: the command line. The one place that wires components together:
this module reads the flags and checks them; server.py runs `kubelite server`,
standalone.py a component alone, component_flags.py holds the flags both share.

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
import datetime
import logging
import os
import sys
from pathlib import Path

from kubelite.apiserver.watchcache import HISTORY_SIZE
from kubelite.cli import at_rest_and_audit, bootstrap_tokens, csr_signing, images, node
from kubelite.cli.component_flags import (
    add_loop_flags, add_node_loop_flags, add_service_account_flags, add_simulated_node_flags,
    go_duration, node_settings, service_account_options, simulated_node_config)
from kubelite.cli.standalone import (
    install_uvloop, load_scheduler_configuration, run_agent, run_controller_manager,
    run_node_agent, run_scheduler)
from kubelite.controllers.names import LOOP_NAMES


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
    add_simulated_node_flags(server)
    server.add_argument("--disable", action="append", default=[], choices=COMPONENTS,
                        metavar="COMPONENT",
                        help="do not run this in-process component (repeatable): "
                             + ", ".join(COMPONENTS))
    server.add_argument("--metric-resolution", type=go_duration, default=15.0,
                        metavar="DURATION",
                        help="how often the metrics server scrapes the kubelets "
                             "(a Go duration; default 15s)")
    add_loop_flags(server)
    add_node_loop_flags(server)
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
    add_service_account_flags(server)
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
    add_simulated_node_flags(agent)
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
    add_node_loop_flags(manager)
    add_loop_flags(manager)
    manager.add_argument("--log-level", default="INFO")
    return parser


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
            args.service_accounts = service_account_options(args, args.data_dir or default_data_dir())
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
        install_uvloop()
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
        install_uvloop()
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
        install_uvloop()
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
        install_uvloop()
        return asyncio.run(run_controller_manager(
            args, (args.data_dir or default_data_dir()) / "storage"))
    return 2


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
