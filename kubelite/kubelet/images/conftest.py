from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from kubelite.kubelet.images.store import ImageStore
from kubelite.kubelet.images.testing import DOCKER_REGISTRY, Registry, TokenServer, htpasswd

USERS = {"alice": "wonderland"}

needs_registry = pytest.mark.skipif(not os.path.exists(DOCKER_REGISTRY),
                                    reason="Debian's docker-registry is not installed")


@pytest.fixture
def store(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "agent" / "images")


def _serve(tmp_path: Path, name: str, auth: dict[str, object] | None = None) -> Iterator[Registry]:
    if not os.path.exists(DOCKER_REGISTRY):
        pytest.skip("Debian's docker-registry is not installed")
    directory = tmp_path / name
    directory.mkdir()
    registry = Registry(directory, auth=auth)
    try:
        registry.start()
        yield registry
    finally:
        registry.stop()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry without auth."""
    yield from _serve(tmp_path, "registry")


@pytest.fixture
def basic_registry(tmp_path: Path) -> Iterator[Registry]:
    """A registry asking for basic credentials (htpasswd): alice / wonderland."""
    (tmp_path / "htpasswd").write_text(htpasswd(USERS))
    yield from _serve(tmp_path, "basic-registry", {
        "htpasswd": {"realm": "kubelite-test", "path": str(tmp_path / "htpasswd")}})


@pytest.fixture
async def token_server(tmp_path: Path) -> AsyncIterator[TokenServer]:
    server = TokenServer(tmp_path, USERS)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def token_registry(tmp_path: Path, token_server: TokenServer) -> Iterator[Registry]:
    """A registry trusting bearer tokens from token_server, as Docker Hub does."""
    yield from _serve(tmp_path, "token-registry", {"token": {
        "realm": token_server.realm, "service": TokenServer.SERVICE,
        "issuer": TokenServer.ISSUER, "rootcertbundle": str(token_server.bundle)}})
