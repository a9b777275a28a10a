"""`kubelite token create|list|delete` against `kubelite server`, and the token used
with the real kubectl: it is its bootstrap user until deleted."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.cluster import ROOT, Cluster, tool


def kubelite_token(cluster: Cluster, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "token", *args,
         "--kubeconfig", cluster.kubeconfig],
        capture_output=True, text=True, timeout=60, cwd=str(ROOT),
        env={**os.environ, "PYTHONPATH": str(ROOT)})


def whoami(cluster: Cluster, token: str) -> subprocess.CompletedProcess[str]:
    """kubectl with the token alone (the admin kubeconfig's certificate would win)."""
    return subprocess.run(
        [tool("kubectl"), "--kubeconfig", "/dev/null", "--server", cluster.url,
         "--certificate-authority", str(cluster.data_dir / "tls" / "server-ca.crt"),
         "--token", token, "auth", "whoami", "-o",
         "jsonpath={.status.userInfo.username} {.status.userInfo.groups}"],
        capture_output=True, text=True, timeout=60)


def test_a_created_token_authenticates_until_deleted(cluster: Cluster) -> None:
    created = kubelite_token(cluster, "create", "--ttl", "1h", "--description", "node-7")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    token_id = token.split(".")[0]
    listed = kubelite_token(cluster, "list")
    assert listed.returncode == 0, listed.stderr
    line = next(row for row in listed.stdout.splitlines() if row.startswith(token_id))
    assert "node-7" in line and "authentication" in line
    assert "system:bootstrappers:kubelite:default-node-token" in line
    me = whoami(cluster, token)
    assert me.returncode == 0, me.stderr
    assert me.stdout.startswith(f"system:bootstrap:{token_id} ")
    assert "system:bootstrappers:kubelite:default-node-token" in me.stdout
    deleted = kubelite_token(cluster, "delete", token)
    assert deleted.returncode == 0, deleted.stderr
    refused = whoami(cluster, token)
    assert refused.returncode != 0 and "Unauthorized" in refused.stderr, refused.stderr


def test_bad_tokens_and_groups_are_refused_with_a_message(cluster: Cluster) -> None:
    bad = kubelite_token(cluster, "create", "NOT.A.TOKEN")
    assert bad.returncode == 2 and "must be of the form" in bad.stderr
    group = kubelite_token(cluster, "create", "--groups", "system:masters")
    assert group.returncode == 2 and "must match" in group.stderr
    missing = kubelite_token(cluster, "delete", "zzzzzz")
    assert missing.returncode == 1 and "not found" in missing.stderr
