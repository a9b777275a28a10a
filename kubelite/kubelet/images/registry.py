"""A client of one repository on an OCI distribution (Docker registry v2) server,
with the registry's authentication handshake.

Requests go out without credentials first; a 401 carries a WWW-Authenticate
challenge, answered as docker and containerd do (distribution's token.md):

- `Bearer realm=...,service=...,scope=...`: ask the realm for a token for the
  repository (GET with the basic credentials if there are any, or POST with the
  identity token as an OAuth2 refresh token), then send it as `Bearer`;
- `Basic realm=...`: send the basic credentials.

A registry token given in the AuthConfig is sent as it is. Tokens are kept for the
client's life (one pull). Registries on loopback (localhost, 127.0.0.1, ::1) are
spoken to in plain HTTP, as containerd does; everything else in HTTPS. Docker Hub
(docker.io) is registry-1.docker.io.

Every failure is a RegistryError with a message fit for a pod's event: the
registry's own error codes and messages where it gave them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import IO, Any

import aiohttp

from kubelite.kubelet import cri
from kubelite.kubelet.images.reference import Reference

DOCKER_HUB_HOST = "registry-1.docker.io"
_LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')
_CHUNK = 1 << 16


class RegistryError(Exception):
    """A registry request failed; the message says why."""


def registry_url(domain: str) -> str:
    """The base URL of a registry: http for loopback, https otherwise."""
    host = DOCKER_HUB_HOST if domain == "docker.io" else domain
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    scheme = "http" if hostname in _LOOPBACK else "https"
    return f"{scheme}://{host}"


class RepositoryClient:
    """Requests to /v2/<repository>/... of one registry, authenticated on demand."""

    def __init__(self, session: aiohttp.ClientSession, ref: Reference,
                 auth: cri.AuthConfig | None = None, *, actions: str = "pull") -> None:
        self._session = session
        self._auth = auth or cri.AuthConfig()
        self._actions = actions
        self.repository = ref.path
        self.base = f"{registry_url(ref.domain)}/v2/{ref.path}"
        self._authorization = (f"Bearer {self._auth.registry_token}"
                               if self._auth.registry_token else "")

    async def fetch(self, method: str, path: str, *, data: bytes | None = None,
                    headers: Mapping[str, str] | None = None,
                    ok: tuple[int, ...] = (200,)) -> tuple[int, Mapping[str, str], bytes]:
        """One request (path relative to the repository, or an absolute URL); the
        body is read whole. A status outside `ok` raises RegistryError."""
        url = path if "://" in path else f"{self.base}/{path}"
        for attempt in range(2):
            async with self._session.request(method, url, data=data,
                                             headers=self._headers(headers)) as response:
                body = await response.read()
                if response.status == 401 and attempt == 0:
                    await self._authenticate(response.headers.get("WWW-Authenticate", ""))
                    continue
                if response.status not in ok:
                    raise RegistryError(_describe(method, url, response.status, body))
                return response.status, response.headers, body
        raise AssertionError("unreachable: the second attempt always returns or raises")

    async def download(self, digest: str, size: int, out: IO[bytes]) -> None:
        """Streams the blob `digest` into `out`, checking its digest and size."""
        url = f"{self.base}/blobs/{digest}"
        for attempt in range(2):
            async with self._session.get(url, headers=self._headers(None)) as response:
                if response.status == 401 and attempt == 0:
                    await self._authenticate(response.headers.get("WWW-Authenticate", ""))
                    continue
                if response.status != 200:
                    raise RegistryError(_describe("GET", url, response.status,
                                                  await response.read()))
                hashed = hashlib.sha256()
                received = 0
                async for chunk in response.content.iter_chunked(_CHUNK):
                    hashed.update(chunk)
                    received += len(chunk)
                    out.write(chunk)
                if f"sha256:{hashed.hexdigest()}" != digest or (size and received != size):
                    raise RegistryError(f"blob {digest}: received {received} bytes with "
                                        f"digest sha256:{hashed.hexdigest()} (want {size} "
                                        "bytes)")
                return

    def _headers(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        headers = dict(extra or {})
        if self._authorization:
            headers["Authorization"] = self._authorization
        return headers

    async def _authenticate(self, challenge: str) -> None:
        scheme, _, rest = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(rest))
        basic = _basic_credentials(self._auth)
        if scheme.lower() == "basic":
            if not basic:
                raise RegistryError("unauthorized: the registry wants a username and "
                                    "password, and there are none for it")
            self._authorization = f"Basic {basic}"
            return
        if scheme.lower() != "bearer" or "realm" not in params:
            raise RegistryError(f"unauthorized, with a challenge kubelite does not know: "
                                f"{challenge!r}")
        scope = f"repository:{self.repository}:{self._actions}"
        query = {"scope": scope, **({"service": params["service"]} if "service" in params
                                    else {})}
        method = "POST" if self._auth.identity_token else "GET"
        if self._auth.identity_token:
            form = {"grant_type": "refresh_token", "refresh_token": self._auth.identity_token,
                    "client_id": "kubelite", **query}
            request = self._session.post(params["realm"], data=form)
        else:
            request = self._session.get(params["realm"], params=query, headers=(
                {"Authorization": f"Basic {basic}"} if basic else {}))
        try:
            async with request as response:
                body = await response.read()
                if response.status != 200:
                    raise RegistryError(
                        f"token request to {params['realm']} failed: "
                        f"{_describe(method, params['realm'], response.status, body)}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as err:
            raise RegistryError(f"token request to {params['realm']} failed: {err}") from err
        token = None
        if isinstance(answer, dict):
            token = answer.get("token") or answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise RegistryError(f"the token server {params['realm']} gave no token")
        self._authorization = f"Bearer {token}"


def _basic_credentials(auth: cri.AuthConfig) -> str:
    if auth.username or auth.password:
        return base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
    return auth.auth


def _describe(method: str, url: str, status: int, body: bytes) -> str:
    """What went wrong, in the registry's words where it gave some."""
    detail = ""
    try:
        errors: Any = json.loads(body).get("errors") or []
        detail = "; ".join(f"{e.get('code', '')}: {e.get('message', '')}".strip(": ")
                           for e in errors if isinstance(e, dict))
    except (ValueError, AttributeError):
        pass
    reason = {401: "unauthorized", 403: "denied", 404: "not found",
              429: "too many requests"}.get(status, f"HTTP {status}")
    return f"{method} {url}: {reason}" + (f" ({detail})" if detail else "")
