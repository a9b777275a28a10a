"""Which loops `--controllers` turns on (upstream's IsControllerEnabled), and the shared
informers the loops of one manager get."""

from __future__ import annotations

import pytest

from kubelite.client.rest import Client
from kubelite.controllers.informers import SharedInformers
from kubelite.controllers.manager import LOOPS, UnknownController, enabled_loops
from kubelite.controllers.names import LOOP_NAMES

ALL = list(LOOPS)


@pytest.mark.parametrize("controllers, enabled", [
    pytest.param(["*"], ALL, id="star-is-all"),
    pytest.param(["*", "-replicaset"], [n for n in ALL if n != "replicaset"], id="star-minus-one"),
    pytest.param(["serviceaccount"], ["serviceaccount"], id="only-named"),
    pytest.param(["-replicaset", "replicaset", "*"], [n for n in ALL if n != "replicaset"],
                 id="first-mention-wins"),
    pytest.param([], [], id="empty-is-none"),
    pytest.param([" * ", ""], ALL, id="blanks-ignored"),
])
def test_enabled_loops_follow_the_controllers_list(controllers: list[str],
                                                   enabled: list[str]) -> None:
    assert enabled_loops(controllers) == enabled


def test_the_command_line_knows_every_loop_by_name() -> None:
    assert tuple(LOOPS) == LOOP_NAMES


def test_an_unknown_controller_is_refused_by_name() -> None:
    with pytest.raises(UnknownController, match="'deploymnet' is not in the list"):
        enabled_loops(["*", "-deploymnet"])


async def test_loops_share_one_informer_per_resource(client: Client) -> None:
    informers = SharedInformers(client)
    pods = informers.informer("pods", indexers={"by-node": lambda p: []})
    again = informers.informer("po", indexers={"by-node": lambda p: [], "other": lambda p: []})
    assert again is pods
    assert informers.resources() == ["pods"]
    informers.start()
    try:
        await informers.wait_for_sync()
        with pytest.raises(RuntimeError):
            informers.informer("nodes")
    finally:
        await informers.stop()
