from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.controllers.names import LOOP_NAMES
from tests.cluster import Cluster

# The API server, and of the controller manager only the namespace loop: deleting a
# namespace needs it, as it needs kube-controller-manager upstream.
# No serviceaccount loop makes `default` accounts there, so the ServiceAccount admission
# plugin, which would refuse every pod for want of one, is off too.
API_ONLY = ("--disable", "scheduler", *(arg for name in LOOP_NAMES if name != "namespace"
                                        for arg in ("--disable", name)),
            "--disable-admission-plugins", "ServiceAccount")


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One kubelite server shared by the end-to-end tests of a run (SQLite store).

    These tests check the API itself, so the server runs no scheduler and no control
    loop but the namespace loop: a pod they make stays exactly as they made it (no
    binding, no PodScheduled condition, no FailedScheduling events), as upstream's API
    integration tests run the apiserver with only the controllers they need. The
    scheduler's and controllers' own end-to-end tests start clusters of their own."""
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
