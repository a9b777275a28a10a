"""kubectl logs, exec and port-forward through the API server to the kubelet's own
HTTPS server, over real host processes; and the API server's answers when it cannot."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kubelite.apiserver.app import APIServer
from kubelite.client.rest import Client
from tests.cluster import tool
from tests.host_pods import Node, host_node

KUBECTLS = ["kubectl-1.35", "kubectl-1.32"]


@dataclass
class Done:
    code: int
    out: str
    err: str


@pytest.fixture
async def node(client: Client, tmp_path: Path) -> AsyncIterator[Node]:
    async with host_node(client, tmp_path) as n:
        yield n


@pytest.fixture
def kubeconfig(server: APIServer, tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{server.url}"}}}}]
users: [{{name: u, user: {{}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u, namespace: default}}}}]
current-context: c
""")
    return path


async def kubectl(kubeconfig: Path, *args: str, version: str = "kubectl-1.35",
                  stdin: bytes | None = None, timeout: float = 30,
                  env: dict[str, str] | None = None) -> Done:
    process = await asyncio.create_subprocess_exec(
        tool(version), "--kubeconfig", str(kubeconfig), *args, env={**os.environ, **(env or {})},
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Done(process.returncode, out.decode(), err.decode())


PRINT_THREE = ["/bin/sh", "-c", "echo one; echo two; echo three; exec sleep 600"]


@pytest.mark.parametrize(("args", "expected"), [
    ((), "one\ntwo\nthree\n"),
    (("--tail=1",), "three\n"),
    (("--tail=2", "-c", "app"), "two\nthree\n"),
    (("--since=1h",), "one\ntwo\nthree\n"),
    (("--limit-bytes=6",), "one\ntw"),
], ids=["all", "tail", "container", "since", "limit-bytes"])
async def test_kubectl_logs(node: Node, client: Client, kubeconfig: Path,
                            args: tuple[str, ...], expected: str) -> None:
    await node.pods.run(client, "web", {"app": PRINT_THREE})
    done = Done(1, "", "")
    async with asyncio.timeout(10):  # the container prints as it starts
        while done.out != "one\ntwo\nthree\n":
            done = await kubectl(kubeconfig, "logs", "web")
    done = await kubectl(kubeconfig, "logs", "web", *args)
    assert (done.code, done.out) == (0, expected), done.err


async def test_kubectl_logs_timestamps_and_previous(node: Node, client: Client,
                                                    kubeconfig: Path) -> None:
    await node.pods.run(client, "web", {"app": ["/bin/sh", "-c", "echo first run"]})
    await node.pods.exited("default", "web", "app")
    await node.pods.start("default", "web", "app", ["/bin/sh", "-c", "echo second run"])
    await node.pods.exited("default", "web", "app")
    assert (await kubectl(kubeconfig, "logs", "web")).out == "second run\n"
    assert (await kubectl(kubeconfig, "logs", "web", "--previous")).out == "first run\n"
    stamped = (await kubectl(kubeconfig, "logs", "web", "--timestamps")).out
    stamp, text = stamped.rstrip("\n").split(" ", 1)
    assert text == "second run" and stamp.startswith("20") and stamp.endswith("Z")


async def test_kubectl_logs_follow_ends_when_the_container_exits(
        node: Node, client: Client, kubeconfig: Path, tmp_path: Path) -> None:
    go = tmp_path / "go"
    script = f"echo start; while [ ! -e {go} ]; do sleep 0.02; done; echo end"
    await node.pods.run(client, "web", {"app": ["/bin/sh", "-c", script]})
    follow = await asyncio.create_subprocess_exec(
        tool("kubectl-1.35"), "--kubeconfig", str(kubeconfig), "logs", "-f", "web",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert follow.stdout is not None
    try:
        async with asyncio.timeout(20):
            assert await follow.stdout.readline() == b"start\n"
            go.touch()  # the container prints its last line and exits; kubectl ends
            assert await follow.stdout.read() == b"end\n"
            assert await follow.wait() == 0
    finally:
        if follow.returncode is None:
            follow.kill()
            await follow.wait()


# kubectl speaks WebSocket first; with it turned off, SPDY (what kubectl falls back to
# and what a kube-apiserver speaks to kubelets)
TRANSPORTS = {"websocket": {}, "spdy": {"KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false",
                                        "KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"}}


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("version", KUBECTLS)
async def test_kubectl_exec_propagates_output_and_exit_code(
        node: Node, client: Client, kubeconfig: Path, version: str, transport: str) -> None:
    env = TRANSPORTS[transport]
    await node.pods.run(client, "web", {"app": ["sleep", "600"]})
    done = await kubectl(kubeconfig, "exec", "web", "--", "/bin/sh", "-c",
                         "echo out; echo err >&2; exit 3", version=version, env=env)
    assert (done.code, done.out) == (3, "out\n"), done.err
    assert "err\n" in done.err
    done = await kubectl(kubeconfig, "exec", "-i", "web", "--", "cat", version=version,
                         stdin=b"through stdin\n", env=env)
    assert (done.code, done.out) == (0, "through stdin\n"), done.err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("version", KUBECTLS)
async def test_kubectl_port_forward_reaches_a_server_in_the_pod(
        node: Node, client: Client, kubeconfig: Path, tmp_path: Path, version: str,
        transport: str) -> None:
    pod_port, local_port = _free_port(), _free_port()
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "hello.txt").write_text("hello from the pod\n")
    await node.pods.run(client, "web", {"app": [
        sys.executable, "-m", "http.server", str(pod_port), "--bind", "127.0.0.1",
        "--directory", str(tmp_path / "www")]})
    await _wait_listening(pod_port)
    forward = await asyncio.create_subprocess_exec(
        tool(version), "--kubeconfig", str(kubeconfig), "port-forward", "pod/web",
        f"{local_port}:{pod_port}", stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, **TRANSPORTS[transport]})
    try:
        assert forward.stdout is not None
        async with asyncio.timeout(20):
            line = await forward.stdout.readline()  # "Forwarding from 127.0.0.1:..."
            assert b"Forwarding from" in line
            for _ in range(2):  # two connections over the one forward
                assert await _http_get(local_port, "/hello.txt") == "hello from the pod\n"
    finally:
        forward.kill()
        await forward.wait()


async def _wait_listening(port: int) -> None:
    async with asyncio.timeout(10):
        while True:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return


async def _http_get(port: int, path: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.0\r\nHost: x\r\n\r\n".encode())
    answer = await reader.read()
    writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.0 200"), head
    return body.decode()


async def test_the_python_clients_stream_execs_over_websocket(
        node: Node, client: Client, server: APIServer) -> None:
    from kubernetes import client as k8s
    from kubernetes.stream import stream

    await node.pods.run(client, "web", {"app": ["sleep", "600"]})
    configuration = k8s.Configuration()
    configuration.host = server.url
    api = k8s.CoreV1Api(k8s.ApiClient(configuration))

    def run() -> str:
        return str(stream(api.connect_get_namespaced_pod_exec, "web", "default",
                          command=["/bin/sh", "-c", "echo from stream"], stderr=True,
                          stdin=False, stdout=True, tty=False))

    assert await asyncio.to_thread(run) == "from stream\n"


async def test_the_api_servers_own_answers(node: Node, client: Client,
                                           kubeconfig: Path) -> None:
    await node.pods.run(client, "two", {"a": ["sleep", "600"], "b": ["sleep", "600"]})
    await node.pods.run(client, "pending", {"app": ["sleep", "600"]}, start=False)
    await client.create("pods", {"metadata": {"name": "unscheduled"},
                                 "spec": {"containers": [{"name": "app", "image": "i"}]}})
    cases = {
        ("logs", "two", "-c", "nope"): "container nope is not valid for pod two",
        ("logs", "pending"):
            'container "app" in pod "pending" is waiting to start: ContainerCreating',
        ("logs", "two", "--tail=-5", "-c", "a"): "",  # kubectl's own: every line
        ("exec", "unscheduled", "--", "true"): "does not have a host assigned",
    }
    for args, message in cases.items():
        done = await kubectl(kubeconfig, *args)
        if message:
            assert message in done.err and done.code != 0, (args, done)
    answer = await client.transport.request("GET", "/api/v1/namespaces/default/pods/two/log")
    assert answer.status == 400
    assert b"a container name must be specified for pod two, choose one of: [a b]" in answer.body
    answer = await client.transport.request("GET", "/api/v1/namespaces/default/pods/two/log",
                                            params={"container": "a", "tailLines": "-1"})
    assert answer.status == 422
    assert b"tailLines: Invalid value: -1: must be greater than or equal to 0" in answer.body


@pytest.mark.parametrize("version", KUBECTLS)
async def test_kubectl_attach_carries_stdin_and_output(
        node: Node, client: Client, kubeconfig: Path, version: str) -> None:
    await node.pods.run(client, "web", {"app": ["cat"]}, stdin=True)
    done = await kubectl(kubeconfig, "attach", "-i", "web", version=version,
                         stdin=b"to the container\n")
    # stdin's end ends cat, the container, and so the attach
    assert (done.code, done.out) == (0, "to the container\n"), done.err


async def test_kubectl_cp_both_ways(node: Node, client: Client, kubeconfig: Path,
                                    tmp_path: Path) -> None:
    await node.pods.run(client, "web", {"app": ["sleep", "600"]})
    inside = tmp_path / "inside"  # the host runtime's containers see the host's files
    inside.mkdir()
    (tmp_path / "local.txt").write_text("copied in\n")
    done = await kubectl(kubeconfig, "cp", str(tmp_path / "local.txt"), f"web:{inside}/in.txt")
    assert done.code == 0, done.err
    assert (inside / "in.txt").read_text() == "copied in\n"
    (inside / "out.txt").write_text("copied out\n")
    done = await kubectl(kubeconfig, "cp", f"web:{inside}/out.txt", str(tmp_path / "back.txt"))
    assert done.code == 0, done.err
    assert (tmp_path / "back.txt").read_text() == "copied out\n"


async def test_kubectl_run_interactive_rm(node: Node, client: Client, kubeconfig: Path) -> None:
    done = await kubectl(kubeconfig, "run", "runner", "-i", "--rm", "--restart=Never",
                         "--image=host", "--", "cat", stdin=b"round trip\n")
    assert done.code == 0, done.err
    assert done.out.startswith("round trip\n"), done.out
    assert 'pod "runner" deleted' in done.out + done.err
    names = [p["metadata"]["name"] for p in (await client.list("pods"))["items"]]
    assert "runner" not in names


async def test_the_python_clients_portforward(node: Node, client: Client, server: APIServer,
                                              tmp_path: Path) -> None:
    from kubernetes import client as k8s
    from kubernetes.stream import portforward

    pod_port = _free_port()
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "hello.txt").write_text("hello from the pod\n")
    await node.pods.run(client, "web", {"app": [
        sys.executable, "-m", "http.server", str(pod_port), "--bind", "127.0.0.1",
        "--directory", str(tmp_path / "www")]})
    await _wait_listening(pod_port)
    configuration = k8s.Configuration()
    configuration.host = server.url
    api = k8s.CoreV1Api(k8s.ApiClient(configuration))

    def fetch() -> bytes:
        forward = portforward(api.connect_get_namespaced_pod_portforward, "web", "default",
                              ports=str(pod_port))
        try:
            conn = forward.socket(pod_port)
            conn.setblocking(True)
            conn.sendall(b"GET /hello.txt HTTP/1.0\r\nHost: x\r\n\r\n")
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
            return answer
        finally:
            forward.close()

    answer = await asyncio.wait_for(asyncio.to_thread(fetch), 20)
    assert answer.startswith(b"HTTP/1.0 200") and answer.endswith(b"hello from the pod\n")
