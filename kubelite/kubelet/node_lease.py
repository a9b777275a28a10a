"""A node's Lease in kube-node-lease (pkg/kubelet/nodelease, the component-helpers
lease controller): named after the node, owned by the Node, held by it for
leaseDurationSeconds (40 s) and renewed every quarter of that.

`renew` is one renewal, shared by the kubelet and the simulated nodes: with the Lease
last written it is one PUT carrying its resourceVersion; without one (the first
renewal, or after a Conflict or NotFound dropped it) it reads the Lease, or creates
it, and takes it over.
"""

from __future__ import annotations

import datetime
from typing import Any

from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.machinery.timestamps import format_micro_time

Obj = dict[str, Any]

NODE_LEASE_NAMESPACE = "kube-node-lease"


def lease_object(name: str, node_uid: str, duration: int, now: datetime.datetime) -> Obj:
    """The node's Lease (the lease controller's newLease)."""
    return {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": name, "namespace": NODE_LEASE_NAMESPACE,
                     "ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": name,
                                          "uid": node_uid}]},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": duration,
                 "renewTime": format_micro_time(now)},
    }


async def renew(client: Client, name: str, node_uid: str, duration: int,
                last: Obj | None, now: datetime.datetime) -> Obj | None:
    """Renew the Lease; returns the Lease written, or None when it must be read afresh
    next time (someone else wrote it, or it was deleted). Other errors raise."""
    spec = {"holderIdentity": name, "leaseDurationSeconds": duration,
            "renewTime": format_micro_time(now)}
    if last is not None:
        lease = {**last, "spec": {**last["spec"], **spec}}
        try:
            return await client.update("leases", lease, namespace=NODE_LEASE_NAMESPACE)
        except (errors.Conflict, errors.NotFound):
            return None
    try:
        current = await client.get("leases", name, namespace=NODE_LEASE_NAMESPACE)
    except errors.NotFound:
        return await client.create("leases", lease_object(name, node_uid, duration, now),
                                   namespace=NODE_LEASE_NAMESPACE)
    current["spec"] = {**(current.get("spec") or {}), **spec}
    return await client.update("leases", current, namespace=NODE_LEASE_NAMESPACE)
