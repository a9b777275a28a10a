from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import Cluster

API_ONLY = ("--disable", "scheduler", "--disable", "controller-manager")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One kubelite server shared by the end-to-end tests of a run (SQLite store).

    These tests check the API itself, so the server runs no scheduler: a pod they make
    stays exactly as they made it (no binding, no PodScheduled condition, no
    FailedScheduling events), as upstream's API integration tests run the apiserver
    alone. The scheduler's own end-to-end tests start clusters of their own."""
    c = Cluster(tmp_path_factory.mktemp("kubelite"), extra_args=API_ONLY)
    c.start()
    yield c
    c.stop()


@pytest.fixture
def fresh_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A server of the test's own, for tests that restart or break it."""
    c = Cluster(tmp_path / "cluster", extra_args=API_ONLY)
    c.start()
    yield c
    c.stop()
