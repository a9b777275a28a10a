from __future__ import annotations

from pathlib import Path

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc.records import sandbox_config_from_json, sandbox_config_to_json
from kubelite.kubelet.runtime.runc.sandbox import write_pod_files

CONFIG = cri.PodSandboxConfig(
    metadata=cri.PodSandboxMetadata("web", "default", "uid-1", 2),
    hostname="web-0",
    log_directory="/var/log/pods/default_web_uid-1",
    dns_config=cri.DNSConfig(servers=("10.43.0.10",), searches=("default.svc.cluster.local", "svc.cluster.local"),
                             options=("ndots:5",)),
    port_mappings=(cri.PortMapping(80, "TCP", 8080, "127.0.0.1"),),
    labels={"app": "web"},
    cgroup_parent="kubepods/burstable/poduid-1",
    sysctls={"net.ipv4.ip_unprivileged_port_start": "0"},
    host_aliases=(("10.0.0.1", ("foo", "bar")),),
)


def test_the_pod_files_are_the_kubelets(tmp_path: Path) -> None:
    """hosts, hostname and resolv.conf as network/dns.py writes them (its tests hold
    the formats), bind-mounted from the sandbox's directory."""
    files = write_pod_files(tmp_path, CONFIG, ("10.42.0.5",))
    assert set(files) == {"/etc/hosts", "/etc/hostname", "/etc/resolv.conf"}
    hosts = Path(files["/etc/hosts"]).read_text()
    assert "10.42.0.5\tweb-0\n" in hosts and "10.0.0.1\tfoo\n10.0.0.1\tbar\n" in hosts
    assert Path(files["/etc/hostname"]).read_text() == "web-0\n"
    assert Path(files["/etc/resolv.conf"]).read_text() == (
        "search default.svc.cluster.local svc.cluster.local\nnameserver 10.43.0.10\noptions ndots:5\n")


def test_sandbox_config_survives_the_record_on_disk() -> None:
    import json

    assert sandbox_config_from_json(json.loads(json.dumps(sandbox_config_to_json(CONFIG)))) == CONFIG
