"""Network namespaces for the tests, made and removed by name.

Every namespace a test asks for is named `kltest-<random>-<label>` under netns.RUN_DIR
and removed in the fixture's finalizer, whether the test passed or not. Every link the
tests make (bridges, veth pairs, the wire between two "nodes") lives inside such a
namespace, so it goes with it; the finalizer first deletes the ones it knows by name
anyway, so a socket a failing test left open (which keeps a namespace alive) cannot
keep them. The host's own interfaces and routes are never touched.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

from kubelite.kubelet.network import links
from kubelite.kubelet.network.netns import (
    call_in_netns_sync,
    create_netns_sync,
    is_netns,
    remove_netns_sync,
)


def _can_make_namespaces() -> str | None:
    if os.geteuid() != 0:
        return "network namespaces need root"
    try:
        path = create_netns_sync(f"kltest-{secrets.token_hex(4)}-probe")
    except OSError as err:
        return f"cannot make a network namespace here: {err}"
    remove_netns_sync(path)
    return None


@pytest.fixture(scope="session")
def netns_support() -> None:
    reason = _can_make_namespaces()
    if reason is not None:
        pytest.skip(reason)


class Namespaces:
    """Makes the test's namespaces; `links(path, *names)` records links to delete."""

    def __init__(self) -> None:
        self.prefix = f"kltest-{secrets.token_hex(3)}"
        self.paths: list[str] = []
        self.links: dict[str, set[str]] = {}

    def make(self, label: str) -> str:
        path = create_netns_sync(f"{self.prefix}-{label}")
        self.paths.append(path)
        return path

    def record_links(self, path: str, *names: str) -> None:
        self.links.setdefault(path, set()).update(names)

    def cleanup(self) -> None:
        for path in reversed(self.paths):
            names = self.links.get(path, set())
            if names and is_netns(path):
                def delete(names: set[str] = names) -> None:
                    with links.rtnl() as ipr:
                        for name in names:
                            links.delete_link(ipr, name)

                call_in_netns_sync(path, delete)
            remove_netns_sync(path)


@pytest.fixture
def namespaces(netns_support: None) -> Iterator[Namespaces]:
    made = Namespaces()
    try:
        yield made
    finally:
        made.cleanup()
        assert not [p for p in made.paths if os.path.lexists(p)]

