"""The admin kubeconfig `kubelite server` writes, so `kubectl` works at once."""

from __future__ import annotations

import os
from pathlib import Path

import yaml


def write_kubeconfig(path: Path, server_url: str, *, name: str = "kubelite") -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": server_url}}],
        "users": [{"name": f"{name}-admin", "user": {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": f"{name}-admin",
                                                "namespace": "default"}}],
        "current-context": name,
        "preferences": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(config, sort_keys=False))
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path
