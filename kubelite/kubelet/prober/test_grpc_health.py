"""grpc probes against a real HTTP/2 server on loopback speaking the health protocol
(made with h2's server side), and the two messages' encodings."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator

import h2.config
import h2.connection
import h2.events
import pytest

from kubelite.kubelet.prober.grpc_health import decode_status, encode_request, probe_grpc
from kubelite.kubelet.prober.results import Result

# service name -> health status; a name missing answers grpc-status 12 (UNIMPLEMENTED)
SERVICES = {"": 1, "db": 2, "cache": 3}


def _response(status: int) -> bytes:
    message = b"\x08" + bytes([status])
    return struct.pack(">BI", 0, len(message)) + message


def _service_of(frame: bytes) -> str:
    message = frame[5:]
    return message[2:2 + message[1]].decode() if message else ""


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    conn.initiate_connection()
    writer.write(conn.data_to_send())
    bodies: dict[int, bytes] = {}
    paths: dict[int, str] = {}
    try:
        while data := await reader.read(65536):
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RequestReceived):
                    paths[event.stream_id] = dict(event.headers)[b":path"].decode()
                    bodies[event.stream_id] = b""
                elif isinstance(event, h2.events.DataReceived):
                    bodies[event.stream_id] += event.data
                elif isinstance(event, h2.events.StreamEnded):
                    sid = event.stream_id
                    service = _service_of(bodies[sid])
                    conn.send_headers(sid, [(":status", "200"),
                                            ("content-type", "application/grpc")])
                    if paths[sid] == "/grpc.health.v1.Health/Check" and service in SERVICES:
                        conn.send_data(sid, _response(SERVICES[service]))
                        conn.send_headers(sid, [("grpc-status", "0")], end_stream=True)
                    else:
                        conn.send_headers(sid, [("grpc-status", "12"),
                                                ("grpc-message", "unknown service")],
                                          end_stream=True)
            writer.write(conn.data_to_send())
            await writer.drain()
    finally:
        writer.close()


@pytest.fixture
async def grpc_port() -> AsyncIterator[int]:
    server = await asyncio.start_server(_handle, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


@pytest.mark.parametrize("service,result,output", [
    ("", Result.SUCCESS, "service healthy"),
    ("db", Result.FAILURE, 'service unhealthy (responded with "NOT_SERVING")'),
    ("cache", Result.FAILURE, 'service unhealthy (responded with "SERVICE_UNKNOWN")'),
    ("nope", Result.FAILURE, "error: this server does not implement the grpc health protocol "
                             "(grpc.health.v1.Health): unknown service"),
], ids=["serving", "not-serving", "service-unknown", "unimplemented"])
async def test_health_check(grpc_port: int, service: str, result: Result, output: str) -> None:
    assert await probe_grpc("127.0.0.1", grpc_port, service, 2.0) == (result, output)


async def test_nobody_listening() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result, output = await probe_grpc("127.0.0.1", port, "", 1.0)
    assert result is Result.FAILURE
    assert output.startswith(f'error: failed to connect service at "127.0.0.1:{port}": ')


async def test_a_silent_server_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers
        writer.close()
    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        assert await probe_grpc("127.0.0.1", port, "", 0.1) == (
            Result.FAILURE, "timeout: health rpc did not complete within 0.1s")
    finally:
        server.close()


@pytest.mark.parametrize("service,frame", [
    ("", b"\0\0\0\0\0"),
    ("db", b"\0\0\0\0\x04\x0a\x02db"),
], ids=["empty", "named"])
def test_request_encoding(service: str, frame: bytes) -> None:
    assert encode_request(service) == frame


@pytest.mark.parametrize("frame,status", [
    (_response(1), 1), (b"\0\0\0\0\0", 0),
    (b"\0\0\0\0\x06\x12\x02xy\x08\x02", 2),  # an unknown field skipped
], ids=["serving", "default-unknown", "skips-unknown-fields"])
def test_response_decoding(frame: bytes, status: int) -> None:
    assert decode_status(frame) == status
