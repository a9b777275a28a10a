"""The admin kubeconfig `kubelite server` writes, so `kubectl` works at once.

It points at the server's https URL, trusts the cluster's server CA and presents the
admin client certificate (system:admin in system:masters), all embedded as `-data`
fields so the file stands alone. Written 0600 through a rename: it holds a key.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml


def write_kubeconfig(path: Path, server_url: str, *, ca_pem: bytes, cert_pem: bytes,
                     key_pem: bytes, name: str = "kubelite") -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {
            "server": server_url, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": f"{name}-admin", "user": {
            "client-certificate-data": _b64(cert_pem), "client-key-data": _b64(key_pem)}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-admin",
                                                "namespace": "default"}}],
        "current-context": name,
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(yaml.safe_dump(config, sort_keys=False))
    tmp.replace(path)
    return path


def _b64(pem: bytes) -> str:
    return base64.b64encode(pem).decode()
