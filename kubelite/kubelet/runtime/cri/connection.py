"""One gRPC channel to a CRI socket, and the rule every call through it keeps: a
deadline on each RPC, and a gRPC error turned into kubelite's CRIError.

Upstream's kubelet (pkg/kubelet/cri/remote) dials `unix:///run/containerd/containerd.sock`
once and gives every call a context with --runtime-request-timeout (2 min); image
pulls get a longer one. The same here: `call` takes the stub's method and a timeout
in seconds, and a runtime that does not answer in time raises CRIError with reason
"DeadlineExceeded" instead of hanging the kubelet's pod worker.

gRPC's NotFound becomes cri.NotFound (the kubelet treats a vanished sandbox or
container as gone); everything else is a CRIError whose message is the runtime's own.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import grpc.aio

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.cri.proto import api_pb2_grpc

Response = TypeVar("Response")

DEFAULT_TIMEOUT = 120.0  # upstream's --runtime-request-timeout
# a CRI message may carry many containers' statuses; upstream allows 16 MiB
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def parse_endpoint(endpoint: str) -> str:
    """The gRPC target for --container-runtime-endpoint: `unix:///path` or a bare
    absolute path (what older kubelets took). ValueError for anything else: a CRI
    runtime listens on a local socket."""
    if endpoint.startswith("unix://"):
        path = endpoint[len("unix://"):]
    elif endpoint.startswith("/"):
        path = endpoint
    else:
        raise ValueError(f"container runtime endpoint {endpoint!r}: want unix:///path/to.sock")
    if not path.startswith("/"):
        raise ValueError(f"container runtime endpoint {endpoint!r}: the socket path must be absolute")
    return f"unix://{path}"


def socket_path(endpoint: str) -> str:
    return parse_endpoint(endpoint)[len("unix://"):]


def error_from(exc: grpc.aio.AioRpcError, what: str) -> cri.CRIError:
    """The CRIError for a failed call; `what` says which call on which object."""
    code = exc.code()
    details = exc.details() or code.name
    if code == grpc.StatusCode.NOT_FOUND:
        return cri.NotFound(f"{what}: {details}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return cri.CRIError(f"{what}: the runtime did not answer in time", "DeadlineExceeded")
    if code == grpc.StatusCode.UNAVAILABLE:
        return cri.CRIError(f"{what}: the runtime is unavailable: {details}", "RuntimeUnavailable")
    if code == grpc.StatusCode.UNIMPLEMENTED:
        return cri.CRIError(f"{what}: the runtime does not implement it ({details})",
                            "Unimplemented")
    return cri.CRIError(f"{what}: {details}")


class Connection:
    """The channel and both services' stubs. Made without I/O: gRPC connects on the
    first call (and reconnects after the runtime restarts)."""

    def __init__(self, endpoint: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.endpoint = parse_endpoint(endpoint)
        self.timeout = timeout
        self._channel = grpc.aio.insecure_channel(self.endpoint, options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ])
        self.runtime: Any = api_pb2_grpc.RuntimeServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self.images: Any = api_pb2_grpc.ImageServiceStub(self._channel)  # type: ignore[no-untyped-call]

    async def call(self, method: Callable[..., Awaitable[Response]], request: object, what: str,
                   *, timeout: float | None = None) -> Response:
        """`method(request)` with a deadline (`timeout`, else the connection's)."""
        try:
            return await method(request, timeout=timeout if timeout is not None else self.timeout)
        except grpc.aio.AioRpcError as exc:
            raise error_from(exc, what) from None

    async def close(self) -> None:
        await self._channel.close()


def socket_answers(endpoint: str) -> bool:
    """Whether something listens on the endpoint's socket (a connect, no RPC)."""
    import socket

    try:
        path = socket_path(endpoint)
    except ValueError:
        return False
    if not os.path.exists(path):
        return False
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True
