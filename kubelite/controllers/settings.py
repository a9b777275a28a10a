"""The controller manager's settings: what kube-controller-manager's flags tune, one typed
field per flag, handed to every loop as `LoopContext.settings`. Each loop reads its own
fields; the defaults are upstream's. `kubelite server` and `kubelite controller-manager`
fill them from the same flags, and tests pass short periods the same way, never by
patching modules."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kubelite.controllers.node_settings import NodeSettings


@dataclass(frozen=True, slots=True)
class LoopSettings:
    # --terminated-pod-gc-threshold: finished pods kept before pod GC deletes the oldest
    terminated_pod_gc_threshold: int = 12500
    # where the local-path provisioner makes volumes (the server's <data dir>/storage);
    # None leaves its claims unprovisioned
    storage_dir: Path | None = None
    # the node loops': --node-monitor-period, --node-monitor-grace-period,
    # --node-startup-grace-period, --cluster-cidr, --node-cidr-mask-size
    node: NodeSettings = field(default_factory=NodeSettings)
    hpa_sync_period: float = 15.0  # --horizontal-pod-autoscaler-sync-period
    # --horizontal-pod-autoscaler-downscale-stabilization
    hpa_downscale_stabilization: float = 300.0
    # --root-ca-file's contents: the CA bundle the root-ca-cert-publisher writes into
    # every namespace's kube-root-ca.crt ConfigMap; None leaves that loop idle
    root_ca_pem: str | None = None
    # the CSR signers' CA files, (certificate, key) by signerName: upstream's
    # --cluster-signing-cert-file/--cluster-signing-key-file and their per-signer
    # variants; a signer without files is left to someone else
    csr_signing_files: dict[str, tuple[Path, Path]] = field(default_factory=dict)
    cluster_signing_duration: float = 365 * 24 * 3600.0  # --cluster-signing-duration
