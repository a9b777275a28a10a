"""`kubelite server --encryption-provider-config` with the real kubectl: Secrets are
ciphertext in the SQLite file, plaintext to kubectl, and keys rotate the way the
Kubernetes documentation says: put the new key first, restart, rewrite every Secret
with `kubectl get secrets -A -o json | kubectl replace -f -`."""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import kubernetes

from tests.cluster import ROOT, Cluster
from tests.conftest import API_ONLY

KEY1 = base64.b64encode(b"a" * 32).decode()
KEY2 = base64.b64encode(b"b" * 24).decode()


def write_config(path: Path, keys: list[tuple[str, str]]) -> Path:
    lines = ["apiVersion: apiserver.config.k8s.io/v1", "kind: EncryptionConfiguration",
             "resources:", "- resources: [secrets]", "  providers:", "  - aescbc:",
             "      keys:"]
    lines += [f"      - name: {name}\n        secret: {secret}" for name, secret in keys]
    lines += ["  - identity: {}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def stored_prefixes(cluster: Cluster) -> dict[str, bytes]:
    """Each stored Secret's newest value's first 23 bytes, from the file itself."""
    with sqlite3.connect(cluster.data_dir / "db" / "state.db") as conn:
        rows = conn.execute(
            "SELECT name, value FROM kine WHERE id IN (SELECT MAX(id) FROM kine "
            "WHERE name LIKE '/registry/core/secrets/%' GROUP BY name) AND deleted = 0"
        ).fetchall()
    return {name.rsplit("/", 1)[1]: bytes(value)[:23] for name, value in rows}


def test_secrets_are_encrypted_and_rotate_by_rewriting(tmp_path: Path) -> None:
    config = write_config(tmp_path / "encryption.yaml", [("key1", KEY1)])
    cluster = Cluster(tmp_path / "cluster",
                      extra_args=(*API_ONLY, "--encryption-provider-config", str(config)))
    cluster.start()
    try:
        for name in ("one", "two"):
            cluster.kubectl("create", "secret", "generic", name,
                            "--from-literal=password=swordfish")
        assert stored_prefixes(cluster) == {"one": b"k8s:enc:aescbc:v1:key1:",
                                            "two": b"k8s:enc:aescbc:v1:key1:"}
        got = json.loads(cluster.kubectl("get", "secret", "one", "-o", "json").stdout)
        assert base64.b64decode(got["data"]["password"]) == b"swordfish"

        cluster.stop()
        write_config(config, [("key2", KEY2), ("key1", KEY1)])
        cluster.start()
        everything = cluster.kubectl("get", "secrets", "-A", "-o", "json").stdout
        cluster.kubectl("replace", "-f", "-", input=everything)
        assert stored_prefixes(cluster) == {"one": b"k8s:enc:aescbc:v1:key2:",
                                            "two": b"k8s:enc:aescbc:v1:key2:"}

        cluster.stop()
        write_config(config, [("key2", KEY2)])
        cluster.start()
        got = json.loads(cluster.kubectl("get", "secret", "two", "-o", "json").stdout)
        assert base64.b64decode(got["data"]["password"]) == b"swordfish"
        # the official Python client reads it too
        api = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(
            cluster.kubeconfig))
        secret = api.read_namespaced_secret("one", "default")
        assert base64.b64decode(secret.data["password"]) == b"swordfish"
    finally:
        cluster.stop()


def test_a_bad_configuration_stops_the_server_with_upstreams_message(tmp_path: Path) -> None:
    config = write_config(tmp_path / "encryption.yaml",
                          [("key1", base64.b64encode(b"short").decode())])
    result = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "server", "--data-dir",
         str(tmp_path / "data"), "--port", "0", "--encryption-provider-config", str(config)],
        capture_output=True, text=True, cwd=str(ROOT), timeout=60)
    assert result.returncode == 2
    assert ("resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": "
            "secret is not of the expected length, got 5, expected one of [16 24 32]"
            ) in result.stderr
