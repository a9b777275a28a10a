"""Where a node's kubelet listens, as its Node object says.

The Node's `kubelite.io/kubelet-url` annotation if it has one (simulated nodes share
one loopback server, a path each), else upstream's `https://<address>:<port>` with
status.daemonEndpoints.kubeletEndpoint.Port and the first address of the preferred
types in k3s's --kubelet-preferred-address-types order, InternalIP first:
kube-apiserver's default puts Hostname first, which needs every node's host name to
resolve to the address its kubelet listens on, and a kubelite node's kubelet listens
on its InternalIP. The API server (logs, exec, port-forward, nodes/proxy)
and the metrics scraper both reach kubelets through this.
"""

from __future__ import annotations

from typing import Any

from kubelite.api.annotations import KUBELET_URL

ADDRESS_TYPES = ("InternalIP", "ExternalIP", "Hostname", "InternalDNS", "ExternalDNS")


def kubelet_url(node: dict[str, Any]) -> str | None:
    """The base URL of a node's kubelet, None when the Node says nothing usable."""
    meta = node.get("metadata") or {}
    advertised = (meta.get("annotations") or {}).get(KUBELET_URL)
    if advertised:
        return str(advertised).rstrip("/")
    status = node.get("status") or {}
    port = (((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {})
            .get("Port"))
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or ()}
    for kind in ADDRESS_TYPES:
        if addresses.get(kind) and port:
            host = addresses[kind]
            return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
    return None
