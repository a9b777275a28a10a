"""httpGet probes and hooks, as upstream's pkg/probe/http and kubelet's lifecycle
HTTP handler.

The request goes to `host` (the pod's IP unless the probe names one) and `port` (a
number, or the name of one of the container's ports), `path` (which may carry a
query), with `httpHeaders` over the defaults `User-Agent: kube-probe/<version>` and
`Accept: */*` (a `Host` header names the virtual host). HTTPS is not verified, as
upstream. Redirects to the same host are followed, at most 10; one to another host is
not followed and counts as a success with a warning. 200-399 succeeds; the body is
read up to 10 KiB for the event's message.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp

from kubelite.kubelet.prober.results import Result

Obj = dict[str, Any]

USER_AGENT = "kube-probe/1.35"
MAX_BODY = 10 << 10
MAX_REDIRECTS = 10

_INSECURE = ssl.create_default_context()
_INSECURE.check_hostname = False
_INSECURE.verify_mode = ssl.CERT_NONE


class ProbeSetupError(ValueError):
    """The probe itself is wrong (an unknown named port): an error, not a failure."""


def resolve_port(port: Any, container: Obj) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int) and not isinstance(port, bool):
        number = port
    elif isinstance(port, str) and port.isdigit():
        number = int(port)
    else:
        found = next((p.get("containerPort") for p in container.get("ports") or []
                      if p.get("name") == port), None)
        if not isinstance(found, int):
            raise ProbeSetupError(f"couldn't find port: {port} in {container.get('name')}")
        number = found
    if not 0 < number < 65536:
        raise ProbeSetupError(f"invalid port number: {number}")
    return number


def join_host_port(host: str, port: int) -> str:
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


@dataclass(frozen=True)
class Request:
    url: str
    headers: dict[str, str]


def build_request(action: Obj, container: Obj, pod_ip: str, *,
                  user_agent: str = USER_AGENT) -> Request:
    scheme = str(action.get("scheme") or "HTTP").lower()
    host = str(action.get("host") or pod_ip)
    port = resolve_port(action.get("port"), container)
    path = str(action.get("path") or "")
    if path and not path.startswith("/"):
        path = "/" + path
    headers = {"User-Agent": user_agent, "Accept": "*/*"}
    for header in action.get("httpHeaders") or []:
        name = str(header.get("name") or "")
        if name:
            headers[name] = str(header.get("value") or "")
    return Request(f"{scheme}://{join_host_port(host, port)}{path or '/'}", headers)


def _errno_text(error: OSError) -> str:
    """`connection refused`: the errno's words, in Go's lower case."""
    return (os.strerror(error.errno) if error.errno else str(error)).lower()


def describe_error(url: str, error: BaseException) -> str:
    """A connection error in Go's words (`Get "url": dial tcp ...: connect: connection refused`)."""
    if isinstance(error, asyncio.TimeoutError):
        return f'Get "{url}": context deadline exceeded (Client.Timeout exceeded while ' \
               "awaiting headers)"
    if isinstance(error, aiohttp.ClientConnectorError):
        reason = _errno_text(error.os_error)
        return f'Get "{url}": dial tcp {join_host_port(error.host, error.port or 0)}: connect: {reason}'
    return f'Get "{url}": {error}'


async def fetch(request: Request, timeout: float | None) -> tuple[int, str]:
    """GET with upstream's redirect rules; (status, body). Raises aiohttp's errors,
    asyncio.TimeoutError, or RuntimeError("stopped after 10 redirects")."""
    first_host = urlsplit(request.url).hostname
    url = request.url
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout, auto_decompress=True,
                                     connector=aiohttp.TCPConnector(ssl=_INSECURE,
                                                                    force_close=True)) as session:
        for hops in range(MAX_REDIRECTS + 1):
            async with session.get(url, headers=request.headers, allow_redirects=False) as resp:
                body = (await resp.content.read(MAX_BODY)).decode(errors="replace")
                location = resp.headers.get("Location")
                if resp.status not in (301, 302, 303, 307, 308) or not location:
                    return resp.status, body
                target = urljoin(url, location)
                if urlsplit(target).hostname != first_host:
                    return resp.status, body  # not followed: judged as it is
                if hops == MAX_REDIRECTS - 1:
                    raise RuntimeError(f'Get "{target}": stopped after 10 redirects')
                url = target
    raise RuntimeError(f'Get "{url}": stopped after 10 redirects')


async def probe_http(action: Obj, container: Obj, pod_ip: str, timeout: float) -> tuple[Result, str]:
    request = build_request(action, container, pod_ip)
    try:
        status, body = await fetch(request, timeout)
    except RuntimeError as e:
        return Result.FAILURE, str(e)
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
        return Result.FAILURE, describe_error(request.url, e)
    if 200 <= status < 400:
        if status >= 300:
            return Result.SUCCESS, f"Probe terminated redirects, Response body: {body}"
        return Result.SUCCESS, body
    return Result.FAILURE, f"HTTP probe failed with statuscode: {status}"
