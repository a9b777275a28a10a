"""A pod's sandbox config: DNS by policy as upstream's dns_test.go, labels, ports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.config import KubeletConfig
from kubelite.kubelet.sandbox_config import pod_dns, sandbox_config

HOST_TEXT = "nameserver 192.0.2.53\nsearch corp.example\noptions edns0\n"
HOST = cri.DNSConfig(("192.0.2.53",), ("corp.example",), ("edns0",))
CONFIG = KubeletConfig(node_name="n", root_dir=Path("/var/lib/k"))
CLUSTER_SEARCH = ("shop.svc.cluster.local", "svc.cluster.local", "cluster.local")


def _pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "shop", "uid": "u"}, "spec": spec}


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, cri.DNSConfig(("10.43.0.10",), (*CLUSTER_SEARCH, "corp.example"), ("ndots:5",))),
    ({"dnsPolicy": "ClusterFirst", "hostNetwork": True}, HOST),
    ({"dnsPolicy": "ClusterFirstWithHostNet", "hostNetwork": True},
     cri.DNSConfig(("10.43.0.10",), (*CLUSTER_SEARCH, "corp.example"), ("ndots:5",))),
    ({"dnsPolicy": "Default"}, HOST),
    ({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["1.1.1.1"], "searches": ["a.b"],
                                          "options": [{"name": "ndots", "value": "2"}]}},
     cri.DNSConfig(("1.1.1.1",), ("a.b",), ("ndots:2",))),
    ({"dnsConfig": {"nameservers": ["10.43.0.10", "1.1.1.1"],
                    "options": [{"name": "ndots", "value": "1"}, {"name": "rotate"}]}},
     cri.DNSConfig(("10.43.0.10", "1.1.1.1"), (*CLUSTER_SEARCH, "corp.example"),
                   ("ndots:1", "rotate"))),
], ids=["cluster-first", "host-network-falls-back", "with-host-net", "default", "none",
        "merged-dns-config"])
def test_pod_dns(spec: dict[str, Any], expected: cri.DNSConfig) -> None:
    assert pod_dns(_pod(**spec), CONFIG, HOST_TEXT) == expected


def test_sandbox_config_labels_ports_and_log_directory() -> None:
    pod = _pod(containers=[{"name": "app", "ports": [{"containerPort": 80, "hostPort": 8080}]}],
               hostAliases=[{"ip": "192.0.2.9", "hostnames": ["db", "db.local"]}])
    pod["metadata"]["labels"] = {"app": "web"}
    config = sandbox_config(pod, CONFIG, attempt=2, resolv_conf=HOST_TEXT)
    assert config.metadata == cri.PodSandboxMetadata("web", "shop", "u", 2)
    assert config.labels == {"app": "web", "io.kubernetes.pod.name": "web",
                             "io.kubernetes.pod.namespace": "shop", "io.kubernetes.pod.uid": "u"}
    assert config.port_mappings == (cri.PortMapping(80, "TCP", 8080),)
    assert config.log_directory == "/var/lib/k/logs/pods/shop_web_u"
    assert config.host_aliases == (("192.0.2.9", ("db", "db.local")),)
    assert config.hostname == "web" and config.cgroup_parent == "kubepods/besteffort/podu"
