from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from kubelite.client.kubeconfig import ConfigError, in_cluster_config, load_kubeconfig


def write(path: Path, clusters: list, users: list, contexts: list, current: str) -> Path:
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": clusters,
                                    "users": users, "contexts": contexts,
                                    "current-context": current}))
    return path


def test_loads_current_context_with_token_and_inline_ca(tmp_path: Path) -> None:
    ca = b"-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n"
    cfg = write(tmp_path / "config",
                [{"name": "c", "cluster": {"server": "https://10.0.0.1:6443/",
                  "certificate-authority-data": base64.b64encode(ca).decode()}}],
                [{"name": "u", "user": {"token": "secret"}}],
                [{"name": "ctx", "context": {"cluster": "c", "user": "u",
                                             "namespace": "team"}}], "ctx")
    config = load_kubeconfig(cfg)
    assert (config.server, config.namespace, config.token, config.ca_data) == \
        ("https://10.0.0.1:6443", "team", "secret", ca)


def test_relative_file_paths_resolve_beside_the_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_bytes(b"CA")
    (tmp_path / "token").write_text("tok\n")
    cfg = write(tmp_path / "config",
                [{"name": "c", "cluster": {"server": "https://h",
                                           "certificate-authority": "pki/ca.crt"}}],
                [{"name": "u", "user": {"tokenFile": "token"}}],
                [{"name": "x", "context": {"cluster": "c", "user": "u"}}], "x")
    config = load_kubeconfig(cfg)
    assert (config.ca_data, config.token, config.namespace) == (b"CA", "tok", "default")


def test_named_context_and_kubeconfig_env_merge(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    one = write(tmp_path / "one", [{"name": "c1", "cluster": {"server": "http://one"}}], [],
                [{"name": "a", "context": {"cluster": "c1"}}], "a")
    two = write(tmp_path / "two", [{"name": "c2", "cluster": {"server": "http://two"}}], [],
                [{"name": "b", "context": {"cluster": "c2"}}], "b")
    monkeypatch.setenv("KUBECONFIG", f"{one}:{two}")
    assert load_kubeconfig().server == "http://one"  # first file's current-context wins
    assert load_kubeconfig(context="b").server == "http://two"
    assert load_kubeconfig().ssl_context() is None


@pytest.mark.parametrize(("user", "context", "message"), [
    ({"exec": {"command": "x"}}, "ctx", "not supported"),
    ({}, "missing", "not found"),
], ids=["exec-plugin", "unknown-context"])
def test_refuses_what_it_cannot_honour(tmp_path: Path, user: dict, context: str,
                                       message: str) -> None:
    cfg = write(tmp_path / "config", [{"name": "c", "cluster": {"server": "https://h"}}],
                [{"name": "u", "user": user}],
                [{"name": "ctx", "context": {"cluster": "c", "user": "u"}}], "ctx")
    with pytest.raises(ConfigError, match=message):
        load_kubeconfig(cfg, context=context)


def test_in_cluster_config_reads_the_service_account(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for name, text in (("token", "t\n"), ("ca.crt", "CA"), ("namespace", "apps")):
        (tmp_path / name).write_text(text)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "fd00::1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    config = in_cluster_config(tmp_path)
    assert (config.server, config.token, config.namespace) == ("https://[fd00::1]:443", "t",
                                                               "apps")
