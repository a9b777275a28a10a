"""SPDY/3.1 framing and the server session, driven as spdystream's client drives them."""

from __future__ import annotations

import asyncio
import zlib

import pytest

from kubelite.machinery.httpstream import spdy


def test_the_header_dictionary_is_spdy3s() -> None:
    # draft 3's dictionary is 1423 bytes; zlib streams name it by this Adler-32
    assert len(spdy.DICTIONARY) == 1423
    assert zlib.adler32(spdy.DICTIONARY) == 0xE3C6A7C2


@pytest.mark.parametrize(("frame", "wire"), [
    (spdy.DataFrame(5, b"hi"), b"\x00\x00\x00\x05\x00\x00\x00\x02hi"),
    (spdy.DataFrame(5, b"", fin=True), b"\x00\x00\x00\x05\x01\x00\x00\x00"),
    (spdy.ControlFrame(spdy.RST_STREAM, stream_id=3, value=spdy.CANCEL),
     b"\x80\x03\x00\x03\x00\x00\x00\x08\x00\x00\x00\x03\x00\x00\x00\x05"),
    (spdy.ControlFrame(spdy.PING, value=7), b"\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x07"),
    (spdy.ControlFrame(spdy.GOAWAY, stream_id=9, value=0),
     b"\x80\x03\x00\x07\x00\x00\x00\x08\x00\x00\x00\x09\x00\x00\x00\x00"),
], ids=["data", "data-fin", "rst-stream", "ping", "goaway"])
def test_frames_have_the_draft_3_layout(frame: spdy.Frame, wire: bytes) -> None:
    assert spdy.FrameEncoder().encode(frame) == wire
    assert spdy.FrameDecoder().decode(wire[:8], wire[8:]) == frame


def test_header_blocks_share_one_compression_stream_per_direction() -> None:
    encoder, decoder = spdy.FrameEncoder(), spdy.FrameDecoder()
    frames = [
        spdy.ControlFrame(spdy.SYN_STREAM, stream_id=1, priority=2,
                          headers={"streamtype": ["error"], "port": ["8080"], "requestid": ["0"]}),
        spdy.ControlFrame(spdy.SYN_STREAM, stream_id=3, flags=spdy.FLAG_FIN,
                          headers={"streamtype": ["data"], "port": ["8080"], "requestid": ["0"]}),
        spdy.ControlFrame(spdy.SYN_REPLY, stream_id=3, headers={"x": ["a", "b"]}),
    ]
    for frame in frames:  # each decodes only after the ones before it: one zlib stream
        wire = encoder.encode(frame)
        assert decoder.decode(wire[:8], wire[8:]) == frame


def test_another_spdy_version_is_a_protocol_error() -> None:
    wire = b"\x80\x02\x00\x06\x00\x00\x00\x04\x00\x00\x00\x07"
    with pytest.raises(spdy.ProtocolError):
        spdy.FrameDecoder().decode(wire[:8], wire[8:])


async def test_a_session_accepts_streams_and_carries_their_bytes() -> None:
    to_server = asyncio.StreamReader()
    from_server = asyncio.StreamReader()

    async def server_write(data: bytes) -> None:
        from_server.feed_data(data)

    session = spdy.Session(to_server, server_write)
    accepted: asyncio.Queue[spdy.Stream] = asyncio.Queue()
    serving = asyncio.create_task(session.serve(accepted.put_nowait))
    client, replies = spdy.FrameEncoder(), spdy.FrameDecoder()

    async with asyncio.timeout(5):
        to_server.feed_data(client.encode(spdy.ControlFrame(
            spdy.SYN_STREAM, stream_id=1, headers={"streamtype": ["data"]})))
        stream = await accepted.get()
        assert stream.header("streamtype") == "data"
        reply = await replies.read(from_server)
        assert isinstance(reply, spdy.ControlFrame) and reply.kind == spdy.SYN_REPLY

        to_server.feed_data(client.encode(spdy.DataFrame(1, b"ping?", fin=True)))
        assert await stream.reader.read() == b"ping?"  # EOF at the client's FIN
        await stream.write(b"pong")
        await stream.close()
        assert await replies.read(from_server) == spdy.DataFrame(1, b"pong")
        assert await replies.read(from_server) == spdy.DataFrame(1, b"", fin=True)

        to_server.feed_data(client.encode(spdy.ControlFrame(spdy.PING, value=1)))
        assert await replies.read(from_server) == spdy.ControlFrame(spdy.PING, value=1)

        to_server.feed_data(client.encode(spdy.DataFrame(99, b"?")))
        reset = await replies.read(from_server)
        assert isinstance(reset, spdy.ControlFrame) and reset.kind == spdy.RST_STREAM
        assert reset.value == spdy.INVALID_STREAM

        to_server.feed_eof()
        await serving
