"""The metrics server's calls to a kubelet: HTTPS to a self-signed kubelet, with a token."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from kubelite.metrics.kubelet_fetch import KubeletFetch
from kubelite.pki.self_signed import serving_certificate


async def test_it_calls_a_self_signed_kubelet_with_its_token(tmp_path: Path) -> None:
    cert, key = serving_certificate(tmp_path, "node-1", ["127.0.0.1"])
    seen: list[str] = []

    async def metrics(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") != "Bearer t0ken":
            return web.Response(status=401)
        return web.Response(text="node_cpu_usage_seconds_total 1\n")

    app = web.Application()
    app.router.add_get("/metrics/resource", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=context)
    await site.start()
    url = f"https://127.0.0.1:{port}/metrics/resource"
    try:
        fetch = KubeletFetch(token="t0ken")
        assert await fetch(url, 5) == "node_cpu_usage_seconds_total 1\n"
        await fetch.close()
        anonymous = KubeletFetch()
        with pytest.raises(OSError, match="HTTP 401"):
            await anonymous(url, 5)
        await anonymous.close()
        # A caller that verifies against some CA refuses the kubelet's own.
        other_cert, _ = serving_certificate(tmp_path / "other", "elsewhere", [])
        other_ca_pem = x509.load_pem_x509_certificates(other_cert.read_bytes())[1].public_bytes(
            serialization.Encoding.PEM)
        verifying = KubeletFetch(token="t0ken", ca_pem=other_ca_pem)
        with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            await verifying(url, 5)
        await verifying.close()
    finally:
        await runner.cleanup()
    assert seen == ["Bearer t0ken", ""]
