"""Each kind of probe against a real thing: an aiohttp server on loopback (HTTP and
HTTPS), a listening socket, a process of the host runtime."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from kubelite.kubelet.prober.conftest import serve
from kubelite.kubelet.prober.handlers import ProbeError, run_probe
from kubelite.kubelet.prober.results import Result
from kubelite.kubelet.runtime.host import HostRuntime
from kubelite.pki.certs import SERVER_AUTH, AltNames, CertificateAuthority, Subject, \
    certificate_pem, key_pem, new_key

Obj = dict[str, Any]
SEEN: list[dict[str, str]] = []


def _app() -> web.Application:
    async def ok(request: web.Request) -> web.Response:
        SEEN.append({"path": request.path_qs, **request.headers})
        return web.Response(text="fine")

    async def broken(_: web.Request) -> web.Response:
        return web.Response(status=503, text="down")

    async def hop(request: web.Request) -> web.Response:
        left = int(request.match_info["n"])
        raise web.HTTPFound("/ok" if left == 0 else f"/hop/{left - 1}")

    async def away(_: web.Request) -> web.Response:
        raise web.HTTPFound("http://example.invalid/elsewhere")

    async def slow(_: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response()

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/broken", broken)
    app.router.add_get("/hop/{n}", hop)
    app.router.add_get("/away", away)
    app.router.add_get("/slow", slow)
    return app


@pytest.fixture
async def http_port() -> AsyncIterator[int]:
    runner, port = await serve(_app())
    SEEN.clear()
    yield port
    await runner.cleanup()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    now = datetime.datetime.now(datetime.UTC)
    ca = CertificateAuthority.create("probe", now=now)
    key = new_key()
    cert = ca.issue(key.public_key(), Subject("server"), usages=[SERVER_AUTH], now=now,
                    alt_names=AltNames.parse(["127.0.0.1"]))
    directory = tmp_path_factory.mktemp("tls")
    (directory / "crt").write_bytes(certificate_pem(cert))
    (directory / "key").write_bytes(key_pem(key))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "crt", directory / "key")
    return context


CONTAINER = {"name": "app", "ports": [{"name": "web", "containerPort": 0}]}


async def http_probe(server_port: int, path: str, **action: Any) -> tuple[Result, str]:
    container = {"name": "app", "ports": [{"name": "web", "containerPort": server_port}]}
    return await run_probe(None, {"httpGet": {"port": server_port, "path": path, **action}},  # type: ignore[arg-type]
                           container, "", "127.0.0.1", 2.0)


@pytest.mark.parametrize("path,result,output", [
    ("/ok", Result.SUCCESS, "fine"),
    ("/broken", Result.FAILURE, "HTTP probe failed with statuscode: 503"),
    ("/hop/3", Result.SUCCESS, "fine"),  # local redirects are followed
    ("/hop/8", Result.SUCCESS, "fine"),  # nine of them
    ("/hop/9", Result.FAILURE, 'Get "http://127.0.0.1:{port}/ok": stopped after 10 redirects'),
    ("/away", Result.SUCCESS, "Probe terminated redirects, Response body: "),
    ("/missing", Result.FAILURE, "HTTP probe failed with statuscode: 404"),
], ids=["ok", "server-error", "redirects-followed", "nine-redirects", "ten-redirects",
        "foreign-redirect-not-followed", "not-found"])
async def test_http_get(http_port: int, path: str, result: Result, output: str) -> None:
    got, text = await http_probe(http_port, path)
    assert (got, text[:len(output.format(port=http_port))]) == \
        (result, output.format(port=http_port))


async def test_http_get_sends_upstreams_headers_and_the_probes(http_port: int) -> None:
    await http_probe(http_port, "ok?x=1", httpHeaders=[
        {"name": "Host", "value": "example.test"}, {"name": "X-Probe", "value": "yes"}],
        port="web")
    assert SEEN[0]["path"] == "/ok?x=1"
    assert (SEEN[0]["Host"], SEEN[0]["X-Probe"], SEEN[0]["User-Agent"], SEEN[0]["Accept"]) == \
        ("example.test", "yes", "kube-probe/1.35", "*/*")


async def test_http_get_times_out(http_port: int) -> None:
    result, output = await run_probe(None, {"httpGet": {"port": http_port, "path": "/slow"}},  # type: ignore[arg-type]
                                     CONTAINER, "", "127.0.0.1", 0.2)
    assert result is Result.FAILURE
    assert output == f'Get "http://127.0.0.1:{http_port}/slow": context deadline exceeded ' \
                     "(Client.Timeout exceeded while awaiting headers)"


async def test_https_is_not_verified(tls: ssl.SSLContext) -> None:
    runner, port = await serve(_app(), ssl_context=tls)
    try:
        assert await http_probe(port, "/ok", scheme="HTTPS") == (Result.SUCCESS, "fine")
    finally:
        await runner.cleanup()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def test_connection_refused_in_gos_words() -> None:
    port = _closed_port()
    assert await http_probe(port, "/") == (
        Result.FAILURE,
        f'Get "http://127.0.0.1:{port}/": dial tcp 127.0.0.1:{port}: connect: connection refused')
    assert await run_probe(None, {"tcpSocket": {"port": port}}, CONTAINER, "", "127.0.0.1", 1.0) \
        == (Result.FAILURE, f"dial tcp 127.0.0.1:{port}: connect: connection refused")  # type: ignore[arg-type]


async def test_tcp_socket_connects() -> None:
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        container = {"name": "app", "ports": [{"name": "db", "containerPort": port}]}
        assert await run_probe(None, {"tcpSocket": {"port": "db", "host": "127.0.0.1"}},  # type: ignore[arg-type]
                               container, "", "10.255.255.1", 1.0) == (Result.SUCCESS, "")
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("probe,message", [
    ({"httpGet": {"port": "nope"}}, "couldn't find port: nope in app"),
    ({"tcpSocket": {"port": 70000}}, "invalid port number: 70000"),
    ({}, "missing probe handler"),
], ids=["unknown-named-port", "port-out-of-range", "no-handler"])
async def test_probes_that_cannot_run_are_errors(probe: Obj, message: str) -> None:
    with pytest.raises(ProbeError, match=f"^{message}$"):
        await run_probe(None, probe, CONTAINER, "", "127.0.0.1", 1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("command,result,output", [
    (["sh", "-c", "echo alive"], Result.SUCCESS, "alive\n"),
    (["sh", "-c", "echo sick >&2; exit 3"], Result.FAILURE, "sick\n"),
    (["sh", "-c", "sleep 5"], Result.FAILURE, 'command "sh -c sleep 5" timed out'),
], ids=["exit-0", "exit-3", "timeout"])
async def test_exec(runtime: HostRuntime, sleeping_container: str, command: list[str],
                    result: Result, output: str) -> None:
    assert await run_probe(runtime, {"exec": {"command": command}}, {"name": "app"}, sleeping_container,
                           "127.0.0.1", 0.5) == (result, output)


async def test_exec_in_a_container_that_is_gone_is_an_error(runtime: HostRuntime,
                                                            sleeping_container: str) -> None:
    await runtime.stop_container(sleeping_container, 0)
    with pytest.raises(ProbeError):
        await run_probe(runtime, {"exec": {"command": ["true"]}}, {"name": "app"}, sleeping_container,
                        "127.0.0.1", 1.0)
