"""Pod networking: what a CNI plugin does for containerd, for kubelite's runtimes.

- netns.py: named network namespaces under /run/kubelite/netns, code and sockets
  inside one (port-forward's connections).
- bridge.py: BridgeNetwork, the cri.PodNetwork: a node bridge, a veth pair per pod,
  host-local addresses (ipam.py), the cluster CIDR blackholed.
- routes.py: NodeRoutes, host-gw routes to the other nodes' podCIDRs.
- dns.py: a pod's resolv.conf and hosts file.
- links.py: the netlink steps (pyroute2) the others take.
"""

from kubelite.kubelet.network.bridge import BridgeNetwork, host_veth_name
from kubelite.kubelet.network.netns import (
    RUN_DIR,
    call_in_netns,
    create_netns,
    is_netns,
    netns_path,
    open_connection,
    remove_netns,
)
from kubelite.kubelet.network.routes import (
    NodePodNetwork,
    NodeRouteController,
    NodeRoutes,
    node_pod_network,
    plan_node_routes,
)

__all__ = [
    "RUN_DIR", "BridgeNetwork", "NodePodNetwork", "NodeRouteController", "NodeRoutes",
    "call_in_netns", "create_netns", "host_veth_name", "is_netns", "netns_path",
    "node_pod_network", "open_connection", "plan_node_routes", "remove_netns",
]
