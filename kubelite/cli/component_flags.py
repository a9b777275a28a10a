"""The flags `kubelite server` shares with the components run alone: the control
loops' (`kubelite controller-manager`), the node lifecycle's, the ServiceAccount
tokens', the simulated nodes' (`kubelite agent --simulate`); and the settings each
group makes, checked (ValueError names the flag at fault)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from kubelite.cli import csr_signing

if TYPE_CHECKING:
    from kubelite.apiserver.auth.serviceaccount.options import ServiceAccountOptions
    from kubelite.controllers.node_settings import NodeSettings
    from kubelite.controllers.settings import LoopSettings
    from kubelite.kubelet.simulated import NodeConfig


def add_service_account_flags(parser: argparse.ArgumentParser) -> None:
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
    group.add_argument("--service-account-max-token-expiration", type=go_duration,
                       default=0.0, metavar="DURATION",
                       help="longest token a TokenRequest gets (a Go duration; default: "
                            "no limit)")


def service_account_options(args: argparse.Namespace, data_dir: Path) -> ServiceAccountOptions:
    from kubelite.apiserver.auth.serviceaccount.options import ServiceAccountOptions

    return ServiceAccountOptions.from_flags(
        data_dir=data_dir, key_file=args.service_account_key_file,
        issuers=args.service_account_issuer, api_audiences=args.api_audiences,
        max_token_expiration=args.service_account_max_token_expiration)


def add_node_loop_flags(parser: argparse.ArgumentParser) -> None:
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


def go_duration(text: str) -> float:
    from kubelite.api.protobuf.wellknown import parse_duration

    try:
        seconds = parse_duration(text) / 1e9
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration (15s, 500ms)") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be positive")
    return seconds


def add_loop_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("control loops")
    group.add_argument("--horizontal-pod-autoscaler-sync-period", type=go_duration,
                       default=15.0, metavar="DURATION",
                       help="how often each HorizontalPodAutoscaler is synced (default 15s)")
    group.add_argument("--horizontal-pod-autoscaler-downscale-stabilization",
                       type=go_duration, default=300.0, metavar="DURATION",
                       help="how long an HPA without behavior looks back before scaling "
                            "down (default 5m0s)")
    group.add_argument("--root-ca-file", type=Path, default=None, metavar="FILE",
                       help="CA bundle published as every namespace's kube-root-ca.crt "
                            "ConfigMap (root-ca-cert-publisher; without it that loop does "
                            "nothing)")
    group.add_argument("--cluster-signing-duration", type=go_duration, default=365 * 86400.0,
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


def add_simulated_node_flags(parser: argparse.ArgumentParser) -> None:
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
