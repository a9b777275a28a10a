"""Which node a user is (upstream's pkg/auth/nodeidentifier): a user named
`system:node:<name>` in the group `system:nodes`. Both the Node authorizer and the
NodeRestriction admission plugin ask this, and only of such users do they have
anything to say."""

from __future__ import annotations

from kubelite.apiserver.auth.user import NODE_USER_PREFIX, NODES_GROUP, UserInfo


def node_identity(user: UserInfo | None) -> str | None:
    """The node's name; "" for a node whose name is empty (refused by both); None
    for a user who is not a node."""
    if user is None or not user.name.startswith(NODE_USER_PREFIX):
        return None
    if NODES_GROUP not in user.groups:
        return None
    return user.name[len(NODE_USER_PREFIX):]
