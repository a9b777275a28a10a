"""The `cri` runtime: kubelite's kubelet on a CRI runtime's gRPC socket (containerd,
CRI-O). See README.md."""

from kubelite.kubelet.runtime.cri.connection import Connection, parse_endpoint, socket_answers
from kubelite.kubelet.runtime.cri.images import CRIImages
from kubelite.kubelet.runtime.cri.runtime import CRIRuntime

__all__ = ["CRIImages", "CRIRuntime", "Connection", "parse_endpoint", "socket_answers"]
