"""`kubelite server --audit-policy-file --audit-log-path` with the real kubectl: the
log holds upstream's JSON Events for what kubectl did, at the policy's levels."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.cluster import ROOT, Cluster
from tests.conftest import API_ONLY

POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/openapi*", "/api", "/apis*"]
- level: RequestResponse
  resources: [{group: "", resources: ["configmaps"]}]
- level: Metadata
  resources: [{group: "", resources: ["secrets"]}]
- level: None
"""


def kubectl_events(log: Path) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in log.read_text().splitlines()]
    return [e for e in events if e.get("userAgent", "").startswith("kubectl")]


def test_kubectl_requests_in_the_audit_log(tmp_path: Path) -> None:
    policy = tmp_path / "audit.yaml"
    policy.write_text(POLICY)
    log = tmp_path / "logs" / "audit.log"
    cluster = Cluster(tmp_path / "cluster", extra_args=(
        *API_ONLY, "--audit-policy-file", str(policy), "--audit-log-path", str(log),
        "--audit-log-maxsize", "1", "--audit-log-maxbackup", "3"))
    cluster.start()
    try:
        cluster.kubectl("create", "configmap", "settings", "--from-literal=mode=fast")
        cluster.kubectl("get", "configmap", "settings", "-o", "json")
        cluster.kubectl("create", "secret", "generic", "db", "--from-literal=password=x")
        cluster.kubectl("get", "pods")  # level None by the last rule
        # a watch: kubectl gives up after a second; its ResponseStarted is written as
        # the stream begins
        cluster.kubectl("get", "configmaps", "--watch", "--request-timeout=1s", check=False)
    finally:
        cluster.stop()
    everything = kubectl_events(log)
    watch = [e for e in everything if e["verb"] == "watch"]
    assert watch and watch[0]["stage"] == "ResponseStarted"
    assert watch[0]["responseStatus"] == {"metadata": {}, "code": 200}
    assert "responseObject" not in watch[0]  # a stream is not recorded
    events = [e for e in everything if e["verb"] != "watch"]
    assert {e["stage"] for e in events} == {"ResponseComplete"}
    summary = [(e["verb"], e["objectRef"]["resource"], e["level"]) for e in events]
    assert summary == [("create", "configmaps", "RequestResponse"),
                       ("get", "configmaps", "RequestResponse"),
                       ("create", "secrets", "Metadata"),
                       ("list", "configmaps", "RequestResponse")]  # before the watch
    create_cm, get_cm, create_secret, list_cm = events
    assert list_cm["responseObject"]["kind"] == "Table"  # what kubectl get asked for
    assert create_cm["requestObject"]["data"] == {"mode": "fast"}
    assert create_cm["responseObject"]["metadata"]["name"] == "settings"
    assert create_cm["responseStatus"] == {"metadata": {}, "code": 201}
    assert get_cm["responseObject"]["data"] == {"mode": "fast"}
    assert create_secret["objectRef"]["name"] == "db"
    assert "requestObject" not in create_secret and "responseObject" not in create_secret
    # no authenticator: every request is the administrator
    assert create_secret["user"] == {"username": "system:admin",
                                     "groups": ["system:masters", "system:authenticated"]}
    assert oct(log.stat().st_mode & 0o777) == "0o600"


def test_a_bad_policy_stops_the_server(tmp_path: Path) -> None:
    policy = tmp_path / "audit.yaml"
    policy.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Most\n")
    result = subprocess.run(
        [sys.executable, "-m", "kubelite.cli.main", "server", "--data-dir",
         str(tmp_path / "data"), "--port", "0", "--audit-policy-file", str(policy),
         "--audit-log-path", "-"], capture_output=True, text=True, cwd=str(ROOT), timeout=60)
    assert result.returncode == 2
    assert ('rules[0].level: Unsupported value: "Most": supported values: "None", '
            '"Metadata", "Request", "RequestResponse"') in result.stderr
