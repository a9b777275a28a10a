"""grpc probes: one call of grpc.health.v1.Health/Check over plaintext HTTP/2, as
upstream's pkg/probe/grpc, without a gRPC library.

The call is small enough to make by hand on the `h2` protocol machine (no I/O of its
own): connection preface and settings, one HEADERS frame (`POST
/grpc.health.v1.Health/Check`, `content-type: application/grpc`, `te: trailers`), one
DATA frame holding a length-prefixed HealthCheckRequest (protobuf field 1, the service
name), then read the response message (HealthCheckResponse, field 1 the status enum)
and the trailers' grpc-status. The messages are encoded by hand: two fields.
Failures carry upstream's messages.
"""

from __future__ import annotations

import asyncio
import struct

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from kubelite.kubelet.prober.results import Result

PATH = "/grpc.health.v1.Health/Check"
STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}
UNIMPLEMENTED = 12


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_request(service: str) -> bytes:
    """A gRPC message frame of HealthCheckRequest{service}."""
    raw = service.encode()
    message = b"\x0a" + _varint(len(raw)) + raw if raw else b""
    return struct.pack(">BI", 0, len(message)) + message


def decode_status(frame: bytes) -> int:
    """HealthCheckResponse.status from a gRPC message frame (0 when absent)."""
    if len(frame) < 5:
        raise ValueError("short grpc message")
    (length,) = struct.unpack(">I", frame[1:5])
    message, i, status = frame[5:5 + length], 0, 0
    while i < len(message):
        key, i = _read_varint(message, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(message, i)
            if field == 1:
                status = value
        elif wire == 2:
            size, i = _read_varint(message, i)
            i += size
        else:
            raise ValueError(f"unexpected wire type {wire}")
    return status


def _read_varint(data: bytes, i: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i += 1
        if not byte & 0x80:
            return value, i
        shift += 7


async def _call(host: str, port: int, service: str) -> tuple[bytes, dict[str, str]]:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
        conn.initiate_connection()
        stream = conn.get_next_available_stream_id()
        authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        conn.send_headers(stream, [(":method", "POST"), (":scheme", "http"), (":path", PATH),
                                   (":authority", authority),
                                   ("content-type", "application/grpc"), ("te", "trailers"),
                                   ("user-agent", "kube-probe/1.35")])
        conn.send_data(stream, encode_request(service), end_stream=True)
        writer.write(conn.data_to_send())
        await writer.drain()
        body, trailers = bytearray(), {}
        while True:
            data = await reader.read(65536)
            if not data:
                raise ConnectionError("connection closed before the response ended")
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived) and event.stream_id == stream:
                    body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, stream)
                elif isinstance(event, (h2.events.ResponseReceived, h2.events.TrailersReceived)):
                    for name, value in event.headers:
                        key = name.decode() if isinstance(name, bytes) else name
                        trailers[key] = value.decode() if isinstance(value, bytes) else value
                elif isinstance(event, h2.events.StreamReset):
                    raise ConnectionError(f"stream reset (error code {event.error_code})")
                elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream:
                    return bytes(body), trailers
            writer.write(conn.data_to_send())
            await writer.drain()
    finally:
        writer.close()


async def probe_grpc(host: str, port: int, service: str, timeout: float) -> tuple[Result, str]:
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        body, headers = await asyncio.wait_for(_call(host, port, service), timeout)
    except asyncio.TimeoutError:
        return Result.FAILURE, f"timeout: health rpc did not complete within {timeout:g}s"
    except OSError as e:
        return Result.FAILURE, (f'error: failed to connect service at "{address}": '
                                f"{e.strerror or e}")
    except h2.exceptions.H2Error as e:
        return Result.FAILURE, f"error: health rpc probe failed: {e}"
    code = int(headers.get("grpc-status", "0") or 0)
    if code == UNIMPLEMENTED:
        return Result.FAILURE, ("error: this server does not implement the grpc health "
                                f"protocol (grpc.health.v1.Health): {headers.get('grpc-message', '')}")
    if code != 0:
        return Result.FAILURE, (f"error: health rpc probe failed: rpc error: code = {code} "
                                f"desc = {headers.get('grpc-message', '')}")
    try:
        status = decode_status(body)
    except ValueError as e:
        return Result.FAILURE, f"error: health rpc probe failed: {e}"
    if status != 1:
        return Result.FAILURE, \
            f'service unhealthy (responded with "{STATUS_NAMES.get(status, str(status))}")'
    return Result.SUCCESS, "service healthy"
