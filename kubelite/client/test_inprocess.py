from __future__ import annotations

import asyncio

import orjson
from aiohttp import web

from kubelite.client.inprocess import InProcessTransport


async def echo(request: web.BaseRequest) -> web.StreamResponse:
    body = await request.read()
    return web.json_response({"method": request.method, "path": request.path,
                              "query": dict(request.query), "body": body.decode(),
                              "ctype": request.headers.get("Content-Type")}, status=201)


async def test_handler_sees_method_path_query_headers_and_body() -> None:
    t = InProcessTransport(echo)
    resp = await t.request("PATCH", "/api/v1/namespaces/a b/pods/x",
                           params={"fieldManager": "m", "labelSelector": "app in (a,b)"},
                           body=b'{"k":1}', headers={"Content-Type": "application/json"})
    assert resp.status == 201
    seen = orjson.loads(resp.body)
    assert seen == {"method": "PATCH", "path": "/api/v1/namespaces/a b/pods/x",
                    "query": {"fieldManager": "m", "labelSelector": "app in (a,b)"},
                    "body": '{"k":1}', "ctype": "application/json"}


async def test_streamed_response_arrives_line_by_line_and_close_cancels_handler() -> None:
    release = asyncio.Event()
    cancelled = asyncio.Event()

    async def stream(request: web.BaseRequest) -> web.StreamResponse:
        resp = web.StreamResponse()
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        await resp.write(b'{"n":1}\n{"n"')
        await resp.write(b':2}\n')
        try:
            await release.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return resp

    t = InProcessTransport(stream)
    s = await t.stream("GET", "/watch")
    assert s.status == 200
    lines = s.lines()
    assert [await anext(lines), await anext(lines)] == [b'{"n":1}\n', b'{"n":2}\n']
    await s.close()
    assert cancelled.is_set()


async def test_stream_of_a_plain_error_response_reads_its_body() -> None:
    async def refuse(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(status=410, body=b'{"kind":"Status"}')

    s = await InProcessTransport(refuse).stream("GET", "/x")
    assert (s.status, await s.read()) == (410, b'{"kind":"Status"}')


async def test_stream_ends_when_handler_fails_mid_stream() -> None:
    async def broken(request: web.BaseRequest) -> web.StreamResponse:
        resp = web.StreamResponse()
        await resp.prepare(request)
        await resp.write(b"a\n")
        raise ConnectionResetError

    s = await InProcessTransport(broken).stream("GET", "/x")
    assert [line async for line in s.lines()] == [b"a\n"]


async def test_slow_reader_applies_back_pressure_to_the_handler() -> None:
    written = 0

    async def firehose(request: web.BaseRequest) -> web.StreamResponse:
        nonlocal written
        resp = web.StreamResponse()
        await resp.prepare(request)
        for _ in range(100):
            await resp.write(b"x\n")
            written += 1
        await resp.write_eof()
        return resp

    s = await InProcessTransport(firehose, stream_buffer=4).stream("GET", "/x")
    for _ in range(3):
        await asyncio.sleep(0)
    assert written <= 5  # the handler waits for the reader, like a full socket
    assert len([line async for line in s.lines()]) == 100


async def test_a_token_is_sent_as_bearer_unless_the_request_names_its_own() -> None:
    async def authorization(request: web.BaseRequest) -> web.StreamResponse:
        return web.Response(body=request.headers.get("Authorization", "").encode())

    with_token = InProcessTransport(authorization, token="s3cret")
    assert (await with_token.request("GET", "/")).body == b"Bearer s3cret"
    stream = await with_token.stream("GET", "/")
    assert await stream.read() == b"Bearer s3cret"
    own = await with_token.request("GET", "/", headers={"Authorization": "Bearer other"})
    assert own.body == b"Bearer other"
    assert (await InProcessTransport(authorization).request("GET", "/")).body == b""
