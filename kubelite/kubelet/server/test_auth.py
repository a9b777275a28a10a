"""How the kubelet names what a request asks (upstream's server/auth.go)."""

from __future__ import annotations

import pytest

from kubelite.kubelet.server.auth import subresource_of


@pytest.mark.parametrize(("path", "subresource"), [
    ("/stats/summary", "stats"),
    ("/stats", "stats"),
    ("/metrics/resource", "metrics"),
    ("/metrics", "metrics"),
    ("/logs/syslog", "log"),
    ("/containerLogs/default/web/app", "proxy"),
    ("/exec/default/web/app", "proxy"),
    ("/portForward/default/web", "proxy"),
    ("/pods", "proxy"),
    ("/healthz", "proxy"),
    ("/statsfoo", "proxy"),
], ids=["stats", "stats-root", "metrics", "metrics-root", "logs", "container-logs", "exec",
        "port-forward", "pods", "healthz", "prefix-only"])
def test_paths_map_to_node_subresources(path: str, subresource: str) -> None:
    assert subresource_of(path) == subresource
