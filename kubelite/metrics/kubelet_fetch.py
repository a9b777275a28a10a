"""How the metrics server asks a real kubelet: HTTPS with credentials.

A kubelet's server authenticates every caller (a client certificate of the cluster's
client CA, or a bearer token it checks with a TokenReview) and authorizes it with a
SubjectAccessReview for `nodes/metrics`. metrics-server calls with its service
account's token; kubelite's in-process metrics server with its own token
(cli/identities.py), which the API server's TokenReview knows.

Kubelets serve certificates they sign themselves unless given one (upstream's
default), so a caller cannot verify them against the cluster CA; metrics-server's
manifests for such clusters say --kubelet-insecure-tls, and so does `verify=False`
here. With a CA bundle, the kubelet's certificate must chain to it.
"""

from __future__ import annotations

import ssl

import aiohttp


class KubeletFetch:
    """A scraper Fetch (url, timeout) -> body over one pooled HTTPS session."""

    def __init__(self, *, token: str | None = None, ca_pem: bytes | None = None,
                 client_cert: tuple[str, str] | None = None) -> None:
        context = ssl.create_default_context(cadata=ca_pem.decode() if ca_pem else None)
        if ca_pem is None:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if client_cert is not None:
            context.load_cert_chain(*client_cert)
        self._ssl = context
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, url: str, timeout: float) -> str:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers=self._headers)
        async with self._session.get(url, ssl=self._ssl,
                                     timeout=aiohttp.ClientTimeout(total=timeout)) as resp:
            if resp.status != 200:
                raise OSError(f"HTTP {resp.status} from {url}")
            return await resp.text()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
