from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import Cluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One kubelite server shared by the end-to-end tests of a run (SQLite store)."""
    c = Cluster(tmp_path_factory.mktemp("kubelite"))
    c.start()
    yield c
    c.stop()


@pytest.fixture
def fresh_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A server of the test's own, for tests that restart or break it."""
    c = Cluster(tmp_path / "cluster")
    c.start()
    yield c
    c.stop()
