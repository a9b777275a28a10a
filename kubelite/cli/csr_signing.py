"""The CSR signers' flags, as kube-controller-manager names them.

`--cluster-signing-cert-file/--cluster-signing-key-file` give one CA to every
kubernetes.io signer; `--cluster-signing-<signer>-cert-file/-key-file` give each its
own, and the two styles do not mix. `kubelite server` fills what no flag gives from
its own CAs under <data-dir>/tls, as k3s does: the client CA signs the client signers
(so the server trusts what they sign), the server CA signs kubelet-serving.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kubelite.pki.cluster import ClusterTLS

KUBE_APISERVER_CLIENT = "kubernetes.io/kube-apiserver-client"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
KUBELET_SERVING = "kubernetes.io/kubelet-serving"

# each signer's flag infix, and the server's CA for it (pki.cluster's names, said
# again so building the parser loads no cryptography)
_SIGNERS = {KUBELET_SERVING: ("kubelet-serving", "server-ca"),
            KUBELET_CLIENT: ("kubelet-client", "client-ca"),
            KUBE_APISERVER_CLIENT: ("kube-apiserver-client", "client-ca")}


def add_flags(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--cluster-signing-cert-file", type=Path, default=None, metavar="FILE",
                       help="PEM CA certificate every kubernetes.io CSR signer signs with "
                            "(csrsigning)")
    group.add_argument("--cluster-signing-key-file", type=Path, default=None, metavar="FILE",
                       help="its ECDSA private key")
    for infix, _ in _SIGNERS.values():
        group.add_argument(f"--cluster-signing-{infix}-cert-file", type=Path, default=None,
                           metavar="FILE", help=f"the {infix} signer's own CA certificate")
        group.add_argument(f"--cluster-signing-{infix}-key-file", type=Path, default=None,
                           metavar="FILE", help=f"the {infix} signer's own CA key")


def signing_files(args: argparse.Namespace, tls: ClusterTLS | None = None
                  ) -> dict[str, tuple[Path, Path]]:
    """(certificate, key) by signer name; ValueError with upstream's words when the
    flags contradict each other. `tls`: the server's CAs for what no flag names."""
    general = _pair(args, "cluster_signing", "--cluster-signing")
    specific = {signer: _pair(args, f"cluster_signing_{infix.replace('-', '_')}",
                              f"--cluster-signing-{infix}")
                for signer, (infix, _) in _SIGNERS.items()}
    if general is not None and any(pair is not None for pair in specific.values()):
        raise ValueError("cannot specify --cluster-signing-{cert,key}-file and other "
                         "--cluster-signing-*-file flags at the same time")
    files: dict[str, tuple[Path, Path]] = {}
    for signer, (_, server_ca) in _SIGNERS.items():
        pair = general or specific[signer]
        if pair is None and tls is not None:
            pair = (tls.cert_path(server_ca), tls.key_path(server_ca))
        if pair is not None:
            files[signer] = pair
    return files


def _pair(args: argparse.Namespace, dest: str, flag: str) -> tuple[Path, Path] | None:
    cert, key = getattr(args, f"{dest}_cert_file", None), getattr(args, f"{dest}_key_file", None)
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        given, missing = (f"{flag}-cert-file", f"{flag}-key-file") if key is None else (
            f"{flag}-key-file", f"{flag}-cert-file")
        raise ValueError(f"cannot specify {given} without {missing}")
    return cert, key
