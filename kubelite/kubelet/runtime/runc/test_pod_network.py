"""runc pods on kubelite's own pod network (kubelet/network's BridgeNetwork), inside a
node network namespace of the test's own (root, runc and network namespaces needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.kubelet.network.bridge import BridgeNetwork
from kubelite.kubelet.network.testing import Namespaces, netns_unsupported
from kubelite.kubelet.runtime.runc import RuncRuntime
from kubelite.kubelet.runtime.runc.conftest import (
    DirectoryImages,
    exited,
    leftovers,
    log_lines,
    requires_runc,
    run,
    sandbox_config,
)

pytestmark = requires_runc


async def test_pods_on_the_bridge_network_reach_each_other_by_pod_ip(
    images: DirectoryImages, runtime_root: tuple[Path, str], tmp_path: Path
) -> None:
    if reason := netns_unsupported():
        pytest.skip(reason)
    root, cgroup_root = runtime_root
    namespaces = Namespaces()
    runtime: RuncRuntime | None = None
    try:
        node = namespaces.make("node")
        network = BridgeNetwork(data_dir=str(tmp_path), node_netns=node)
        namespaces.record_links(node, network.bridge)
        await network.set_pod_cidr("10.42.7.0/24")
        runtime = RuncRuntime(root=root, images=images, network=network, cgroup_root=cgroup_root)
        server = sandbox_config(tmp_path, "server")
        server_id = await runtime.run_pod_sandbox(server)
        (server_ip,) = (await runtime.pod_sandbox_status(server_id)).ips
        assert server_ip.startswith("10.42.7.")
        await run(
            runtime, server_id, server, "httpd", "sh", "-c",
            "mkdir /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www",
        )
        client = sandbox_config(tmp_path, "client")
        client_id = await runtime.run_pod_sandbox(client)
        fetch = await run(
            runtime, client_id, client, "wget", "sh", "-c",
            f"for i in $(seq 200); do wget -q -O- http://{server_ip}:8080/ && exit 0; sleep 0.05; done; exit 1",
        )
        status = await exited(runtime, fetch)
        assert (status.exit_code, log_lines(status)) == (0, [("stdout", b"server")])
        for sandbox_id in (server_id, client_id):
            await runtime.remove_pod_sandbox(sandbox_id)
        assert leftovers(root, cgroup_root)["sandboxes"] == []
        assert dict(network.store.allocations()) == {}  # stop tore the network down
    finally:
        if runtime is not None:
            await runtime.close()
        namespaces.cleanup()
