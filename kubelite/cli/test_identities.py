"""The in-process components' identities: one user and one fresh token each."""

from __future__ import annotations

import pytest

from kubelite.cli.identities import (
    APISERVER,
    CONTROLLER_MANAGER,
    IDENTITIES,
    METRICS_SERVER,
    SCHEDULER,
    SIMULATED_NODES,
    ComponentTokens,
)


@pytest.mark.parametrize("component,name,privileged", [
    (APISERVER, "system:apiserver", True),
    (SCHEDULER, "system:kube-scheduler", False),
    (CONTROLLER_MANAGER, "system:kube-controller-manager", True),
    (METRICS_SERVER, "system:kubelite-metrics-server", True),
    (SIMULATED_NODES, "system:kubelite-simulated-nodes", True),
], ids=lambda value: value if isinstance(value, str) else None)
async def test_each_component_token_names_its_user(component: str, name: str,
                                                   privileged: bool) -> None:
    tokens = ComponentTokens()
    user = await tokens.authenticator().authenticate_token(tokens.token(component))
    assert user is not None
    assert (user.name, user.privileged) == (name, privileged)


def test_tokens_are_distinct_and_new_at_every_start() -> None:
    first, second = ComponentTokens(), ComponentTokens()
    tokens = {first.token(c) for c in IDENTITIES} | {second.token(c) for c in IDENTITIES}
    assert len(tokens) == 2 * len(IDENTITIES)
    assert all(len(token) >= 40 for token in tokens)
