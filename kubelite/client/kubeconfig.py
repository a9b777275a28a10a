"""Load a kubeconfig (or the in-cluster service account) into a connection config.

Follows what client-go's clientcmd does for the fields kubelite's components need:
the current context (or a named one) picks a cluster and a user; the cluster gives
`server`, `certificate-authority`/`-data` and `insecure-skip-tls-verify`; the user
gives `client-certificate`/`-data` + `client-key`/`-data`, `token`/`tokenFile` or
`username`/`password`. Relative file paths are relative to the kubeconfig's folder,
as upstream resolves them. `KUBECONFIG` may list several files; as in clientcmd the
first file to set a map key wins.

Not supported (refused by name rather than ignored): exec and auth-provider plugins.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kubelite.client.transport import HTTPTransport

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class ConfigError(ValueError):
    """The kubeconfig is missing, malformed, or asks for what kubelite cannot do."""


@dataclass(slots=True)
class ClusterConfig:
    server: str
    namespace: str = "default"
    ca_data: bytes | None = None  # PEM
    cert_data: bytes | None = None  # PEM
    key_data: bytes | None = None  # PEM
    token: str | None = None
    username: str | None = None
    password: str | None = None
    insecure: bool = False

    def ssl_context(self) -> ssl.SSLContext | None:
        """None for plain http; else a context trusting `ca_data` (or the system
        store) and presenting the client certificate, if any."""
        if not self.server.startswith("https://"):
            return None
        ctx = ssl.create_default_context()
        if self.insecure:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_data:
            ctx.load_verify_locations(cadata=self.ca_data.decode())
        if self.cert_data and self.key_data:
            # ssl wants files for the key pair; write them to a private temp dir that
            # is gone as soon as the context holds the keys.
            with tempfile.TemporaryDirectory() as tmp:
                cert, key = Path(tmp) / "tls.crt", Path(tmp) / "tls.key"
                cert.write_bytes(self.cert_data)
                key.touch(mode=0o600)
                key.write_bytes(self.key_data)
                ctx.load_cert_chain(cert, key)
        return ctx

    def transport(self, **options: Any) -> HTTPTransport:
        return HTTPTransport(self.server, ssl_context=self.ssl_context(), token=self.token,
                             username=self.username, password=self.password, **options)


def _named(items: list[dict[str, Any]] | None, name: str, what: str) -> dict[str, Any]:
    for item in items or ():
        if item.get("name") == name:
            return item.get(what) or {}
    raise ConfigError(f"{what} {name!r} not found in kubeconfig")


def _pem(section: dict[str, Any], key: str, base: Path) -> bytes | None:
    """`<key>-data` (base64 PEM) wins over `<key>` (a file path), as upstream."""
    data = section.get(f"{key}-data")
    if data:
        return base64.b64decode(str(data))
    path = section.get(key)
    if path:
        return (base / os.path.expanduser(str(path))).read_bytes()
    return None


def _merge(paths: list[Path]) -> tuple[dict[str, Any], Path]:
    merged: dict[str, Any] = {}
    base: Path | None = None
    for path in paths:
        if not path.exists():
            continue
        doc = yaml.safe_load(path.read_text()) or {}
        if not isinstance(doc, dict):
            raise ConfigError(f"{path}: not a kubeconfig")
        base = base or path.parent
        for section in ("clusters", "users", "contexts"):
            have = {i.get("name") for i in merged.get(section, [])}
            merged.setdefault(section, []).extend(
                dict(i, _base=str(path.parent)) for i in doc.get(section) or ()
                if i.get("name") not in have)
        if "current-context" not in merged and doc.get("current-context"):
            merged["current-context"] = doc["current-context"]
    if base is None:
        raise ConfigError(f"no kubeconfig at {', '.join(map(str, paths))}")
    return merged, base


def load_kubeconfig(path: str | os.PathLike[str] | None = None, *,
                    context: str | None = None) -> ClusterConfig:
    """The config of `context` (default: current-context) in `path`, else in the files
    of $KUBECONFIG, else ~/.kube/config."""
    if path is not None:
        paths = [Path(path)]
    elif os.environ.get("KUBECONFIG"):
        paths = [Path(p) for p in os.environ["KUBECONFIG"].split(os.pathsep) if p]
    else:
        paths = [Path.home() / ".kube" / "config"]
    doc, _ = _merge(paths)
    name = context or doc.get("current-context")
    if not name:
        raise ConfigError("kubeconfig has no current-context")
    ctx = _named(doc.get("contexts"), name, "context")
    cluster_item = next((c for c in doc.get("clusters", [])
                         if c.get("name") == ctx.get("cluster")), None)
    if cluster_item is None:
        raise ConfigError(f"cluster {ctx.get('cluster')!r} not found in kubeconfig")
    cluster = cluster_item.get("cluster") or {}
    cluster_base = Path(cluster_item["_base"])
    no_user: dict[str, Any] = {"user": {}, "_base": str(cluster_base)}
    user_item: dict[str, Any] = next(
        (u for u in doc.get("users", []) if u.get("name") == ctx.get("user")), no_user)
    user = user_item.get("user") or {}
    user_base = Path(user_item["_base"])
    if user.get("exec") or user.get("auth-provider"):
        raise ConfigError("kubeconfig exec and auth-provider credentials are not supported")
    server = cluster.get("server")
    if not server:
        raise ConfigError(f"cluster {ctx.get('cluster')!r} has no server")
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = (user_base / user["tokenFile"]).read_text().strip()
    return ClusterConfig(
        server=server.rstrip("/"),
        namespace=ctx.get("namespace") or "default",
        ca_data=_pem(cluster, "certificate-authority", cluster_base),
        cert_data=_pem(user, "client-certificate", user_base),
        key_data=_pem(user, "client-key", user_base),
        token=token, username=user.get("username"), password=user.get("password"),
        insecure=bool(cluster.get("insecure-skip-tls-verify")))


def in_cluster_config(sa_dir: Path = SERVICE_ACCOUNT_DIR) -> ClusterConfig:
    """The pod's own service account, as client-go's rest.InClusterConfig."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    port = os.environ.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise ConfigError("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT unset")
    if ":" in host:
        host = f"[{host}]"
    ns_file = sa_dir / "namespace"
    return ClusterConfig(
        server=f"https://{host}:{port}",
        namespace=ns_file.read_text().strip() if ns_file.exists() else "default",
        ca_data=(sa_dir / "ca.crt").read_bytes(),
        token=(sa_dir / "token").read_text().strip())
