"""Network namespaces for the tests (testing.Namespaces), removed by name.

Every namespace a test asks for is named `kltest-<random>-<label>` under netns.RUN_DIR
and removed in the fixture's finalizer, whether the test passed or not. Every link the
tests make (bridges, veth pairs, the wire between two "nodes") lives inside such a
namespace, so it goes with it (and the links recorded by name are deleted first). The
host's own interfaces and routes are never touched.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kubelite.kubelet.network.testing import Namespaces, netns_unsupported


@pytest.fixture(scope="session")
def netns_support() -> None:
    reason = netns_unsupported()
    if reason is not None:
        pytest.skip(reason)


@pytest.fixture
def namespaces(netns_support: None) -> Iterator[Namespaces]:
    made = Namespaces()
    try:
        yield made
    finally:
        made.cleanup()
        assert not [p for p in made.paths if os.path.lexists(p)]
