"""`kubectl auth can-i` (the real kubectl) against a server that authorizes with RBAC.

kubectl sends bearer tokens only over TLS, so the test serves the server's handler
on an HTTPS listener too (auth/conftest.py), whose certificate kubectl is told not to
verify."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.conftest import https_listener
from kubelite.apiserver.auth.rbac.conftest import As
from kubelite.apiserver.auth.rbac.test_authorization import setup_pod_reader

KUBECTL = pathlib.Path(__file__).parents[4] / ".tools" / "bin" / "kubectl-1.35"
pytestmark = [
    pytest.mark.skipif(not KUBECTL.exists(), reason="no kubectl 1.35 binary in .tools/bin")]


@pytest.fixture
async def https_url(secured: APIServer, tmp_path: pathlib.Path) -> AsyncIterator[str]:
    async with https_listener(secured, tmp_path) as listener:
        yield listener.url


def kubeconfig(tmp: pathlib.Path, url: str, user: str) -> pathlib.Path:
    path = tmp / f"{user}.kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: "{url}", insecure-skip-tls-verify: true}}
users:
- name: {user}
  user: {{token: {user}-token}}
contexts:
- name: c
  context: {{cluster: c, user: {user}, namespace: web}}
current-context: c
""")
    return path


async def kubectl(tmp: pathlib.Path, url: str, user: str, *args: str
                  ) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        str(KUBECTL), "--kubeconfig", str(kubeconfig(tmp, url, user)), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={"HOME": str(tmp), "PATH": "/usr/bin:/bin"})
    async with asyncio.timeout(60):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_can_i_answers_yes_and_no(https_url: str, as_user: As,
                                        tmp_path: pathlib.Path) -> None:
    await setup_pod_reader(as_user)
    assert await kubectl(tmp_path, https_url, "jane", "auth", "can-i", "list", "pods") == (
        0, "yes\n", "")
    code, out, _ = await kubectl(tmp_path, https_url, "jane", "auth", "can-i", "delete", "pods")
    assert (code, out) == (1, "no\n")
    code, out, _ = await kubectl(tmp_path, https_url, "jane", "auth", "can-i", "list", "pods",
                                 "-n", "default")
    assert (code, out) == (1, "no\n")
    code, out, _ = await kubectl(tmp_path, https_url, "admin", "auth", "can-i", "delete",
                                 "nodes")
    assert (code, out) == (0, "yes\n")


async def test_can_i_as_another_user(https_url: str, as_user: As,
                                     tmp_path: pathlib.Path) -> None:
    await setup_pod_reader(as_user)
    code, out, _ = await kubectl(tmp_path, https_url, "admin", "auth", "can-i", "get", "pods",
                                 "--as", "jane")
    assert (code, out) == (0, "yes\n")
    code, out, _ = await kubectl(tmp_path, https_url, "admin", "auth", "can-i", "create", "pods",
                                 "--as", "jane")
    assert (code, out) == (1, "no\n")
    code, _, err = await kubectl(tmp_path, https_url, "bob", "auth", "can-i", "get", "pods",
                                 "--as", "jane")
    assert code == 1
    assert 'User "bob" cannot impersonate resource "users"' in err


async def test_can_i_list(https_url: str, as_user: As, tmp_path: pathlib.Path) -> None:
    await setup_pod_reader(as_user)
    code, out, _ = await kubectl(tmp_path, https_url, "jane", "auth", "can-i", "--list")
    assert code == 0
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert ["pods", "[]", "[]", "[get", "list", "watch]"] in lines
    assert ["selfsubjectaccessreviews.authorization.k8s.io", "[]", "[]", "[create]"] in lines
    assert ["[/version]", "[]", "[get]"] in lines
