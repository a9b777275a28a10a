"""Open a backend by URL (k3s-io/kine `pkg/drivers/factory.go` does the same).

| endpoint                                        | backend                      |
|-------------------------------------------------|------------------------------|
| `sqlite:///abs/path.db`, `sqlite://rel/path.db` | SQLiteBackend(path)          |
| `/path/to/state.db`, `state.db`, `:memory:`     | SQLiteBackend(path)          |
| `http://h:2379`, `https://h:2379`, `etcd://h:p` | EtcdBackend([url])           |
| `http://a:2379,http://b:2379` (comma-separated) | EtcdBackend([a, b]) failover |

The backend is returned unstarted; the caller awaits `start()`. Unknown schemes are
refused by name rather than guessed at.
"""

from __future__ import annotations

from kubelite.storage.backend import Backend
from kubelite.storage.etcd import EtcdBackend
from kubelite.storage.sqlite import SQLiteBackend

_ETCD_SCHEMES = ("http://", "https://", "etcd://")


def open_backend(endpoint: str) -> Backend:
    endpoint = endpoint.strip()
    if not endpoint:
        raise ValueError("empty storage endpoint")
    if endpoint.startswith("sqlite://"):
        path = endpoint[len("sqlite://") :]
        if not path:
            raise ValueError(f"no database path in {endpoint!r}")
        return SQLiteBackend(path)
    urls = [part.strip() for part in endpoint.split(",") if part.strip()]
    if all(url.startswith(_ETCD_SCHEMES) for url in urls):
        return EtcdBackend(urls)
    if "://" in endpoint:
        scheme = endpoint.split("://", 1)[0]
        raise ValueError(f"unsupported storage scheme {scheme!r} in {endpoint!r}")
    return SQLiteBackend(endpoint)
