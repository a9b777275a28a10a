"""The CSR signers' flags: one CA for all, one per signer, the server's own CAs for what
no flag names, and upstream's refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.cli.csr_signing import KUBE_APISERVER_CLIENT, KUBELET_CLIENT, KUBELET_SERVING, signing_files
from kubelite.cli.component_flags import loop_settings, node_settings
from kubelite.cli.main import build_parser, main
from kubelite.pki.cluster import ClusterTLS

CM = ["controller-manager", "--kubeconfig", "k"]


def files(*flags: str, tls: ClusterTLS | None = None) -> dict[str, tuple[Path, Path]]:
    return signing_files(build_parser().parse_args([*CM, *flags]), tls)


def test_one_ca_signs_for_every_signer() -> None:
    pair = (Path("ca.crt"), Path("ca.key"))
    assert files("--cluster-signing-cert-file", "ca.crt", "--cluster-signing-key-file",
                 "ca.key") == {KUBELET_SERVING: pair, KUBELET_CLIENT: pair,
                               KUBE_APISERVER_CLIENT: pair}


def test_each_signer_can_have_its_own_ca_and_the_server_fills_the_rest(tmp_path: Path) -> None:
    tls = ClusterTLS(tmp_path)
    assert files("--cluster-signing-kubelet-serving-cert-file", "s.crt",
                 "--cluster-signing-kubelet-serving-key-file", "s.key", tls=tls) == {
        KUBELET_SERVING: (Path("s.crt"), Path("s.key")),
        KUBELET_CLIENT: (tmp_path / "client-ca.crt", tmp_path / "client-ca.key"),
        KUBE_APISERVER_CLIENT: (tmp_path / "client-ca.crt", tmp_path / "client-ca.key")}
    assert files(tls=tls)[KUBELET_SERVING] == (tmp_path / "server-ca.crt",
                                               tmp_path / "server-ca.key")
    assert files() == {}  # a standalone controller manager signs nothing unasked


@pytest.mark.parametrize(("flags", "message"), [
    (["--cluster-signing-cert-file", "a"],
     "cannot specify --cluster-signing-cert-file without --cluster-signing-key-file"),
    (["--cluster-signing-kubelet-client-key-file", "a"],
     "cannot specify --cluster-signing-kubelet-client-key-file without "
     "--cluster-signing-kubelet-client-cert-file"),
    (["--cluster-signing-cert-file", "a", "--cluster-signing-key-file", "b",
      "--cluster-signing-kubelet-client-cert-file", "c",
      "--cluster-signing-kubelet-client-key-file", "d"],
     "cannot specify --cluster-signing-{cert,key}-file and other "
     "--cluster-signing-*-file flags at the same time"),
], ids=["cert-without-key", "key-without-cert", "both-styles"])
def test_contradicting_flags_stop_the_command(flags: list[str], message: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*CM, *flags]) == 2
    assert capsys.readouterr().err == f"kubelite: {message}\n"


def test_the_files_and_duration_reach_the_loops_settings(tmp_path: Path) -> None:
    args = build_parser().parse_args([*CM, "--cluster-signing-duration", "24h",
                                      "--cluster-signing-cert-file", "ca.crt",
                                      "--cluster-signing-key-file", "ca.key"])
    args.node_settings = node_settings(args)
    args.csr_signing_files = signing_files(args)
    settings = loop_settings(args, tmp_path)
    assert settings.cluster_signing_duration == 24 * 3600
    assert settings.csr_signing_files[KUBELET_CLIENT] == (Path("ca.crt"), Path("ca.key"))
