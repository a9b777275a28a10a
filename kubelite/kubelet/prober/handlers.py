"""Running one probe, as upstream's prober.runProbe: exec, httpGet, tcpSocket, grpc.

`run_probe` answers (Result, output) or raises ProbeError for a probe that could not
be run at all (the runtime failing, an unknown named port), which the worker ignores
as upstream does (no change to what it believes). Failures carry the words of
upstream's Unhealthy events.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from typing import Any

from kubelite.kubelet import cri
from kubelite.kubelet.prober.grpc_health import probe_grpc
from kubelite.kubelet.prober.http_get import (
    ProbeSetupError,
    join_host_port,
    probe_http,
    resolve_port,
)
from kubelite.kubelet.prober.results import Result

Obj = dict[str, Any]

MAX_OUTPUT = 10 << 10


class ProbeError(Exception):
    """The probe could not be run (not: the probe failed)."""


async def probe_exec(runtime: cri.RuntimeService, container_id: str, command: list[str],
                     timeout: float) -> tuple[Result, str]:
    try:
        result = await runtime.exec_sync(container_id, command, timeout)
    except cri.CRIError as e:
        if e.reason == "Timeout":
            return Result.FAILURE, f'command "{" ".join(command)}" timed out'
        raise ProbeError(str(e)) from e
    output = (result.stdout + result.stderr)[:MAX_OUTPUT].decode(errors="replace")
    return (Result.SUCCESS if result.exit_code == 0 else Result.FAILURE), output


async def probe_tcp(host: str, port: int, timeout: float) -> tuple[Result, str]:
    address = join_host_port(host, port)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except asyncio.TimeoutError:
        return Result.FAILURE, f"dial tcp {address}: i/o timeout"
    except OSError as e:
        reason = (os.strerror(e.errno) if e.errno else str(e)).lower()
        return Result.FAILURE, f"dial tcp {address}: connect: {reason}"
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return Result.SUCCESS, ""


async def run_probe(runtime: cri.RuntimeService, probe: Obj, container: Obj, container_id: str,
                    pod_ip: str, timeout: float) -> tuple[Result, str]:
    try:
        if isinstance(probe.get("exec"), dict):
            command = [str(c) for c in probe["exec"].get("command") or []]
            return await probe_exec(runtime, container_id, command, timeout)
        if isinstance(probe.get("httpGet"), dict):
            return await probe_http(probe["httpGet"], container, pod_ip, timeout)
        if isinstance(probe.get("tcpSocket"), dict):
            action = probe["tcpSocket"]
            port = resolve_port(action.get("port"), container)
            return await probe_tcp(str(action.get("host") or pod_ip), port, timeout)
        if isinstance(probe.get("grpc"), dict):
            action = probe["grpc"]
            port = resolve_port(action.get("port"), container)
            return await probe_grpc(pod_ip, port, str(action.get("service") or ""), timeout)
    except ProbeSetupError as e:
        raise ProbeError(str(e)) from e
    raise ProbeError("missing probe handler")
