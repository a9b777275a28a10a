"""Annotations kubelite's components agree on, beside upstream's well-known ones.

`kubelite.io/kubelet-url` on a Node: the base URL of its kubelet's HTTP endpoints
(`<url>/metrics/resource`, ...), for a kubelet that is not reached at upstream's
`https://<InternalIP>:<status.daemonEndpoints.kubeletEndpoint.Port>`. Simulated nodes
set it: one loopback server answers for all of a simulator's nodes, a path per node
(docs/decisions.md). A Node without it is reached as upstream reaches a kubelet.
"""

KUBELET_URL = "kubelite.io/kubelet-url"
