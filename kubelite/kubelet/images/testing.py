"""Images and a registry for tests: built here from small layers (or Debian's
busybox-static), written as docker-archives and OCI layouts, and pushed to a real
Debian docker-registry on loopback, with no auth, htpasswd basic auth, or bearer
tokens from a token server of our own (distribution's token.md), the way Docker
Hub authenticates.
"""

from __future__ import annotations

import base64
import datetime
import gzip
import hashlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import tarfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import zstandard
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from kubelite.kubelet import cri
from kubelite.kubelet.images import manifests
from kubelite.kubelet.images.reference import parse
from kubelite.kubelet.images.registry import RepositoryClient

DOCKER_REGISTRY = "/usr/bin/docker-registry"
BUSYBOX = "/bin/busybox"
_MTIME = 1_700_000_000


def tar_layer(files: dict[str, bytes | str]) -> bytes:
    """A layer tar: bytes are a file, a str starting with "->" a symlink, "/" a dir."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.mtime = _MTIME
            if isinstance(content, bytes):
                info.size, info.mode = len(content), 0o755
                tar.addfile(info, io.BytesIO(content))
            elif content.startswith("->"):
                info.type, info.linkname = tarfile.SYMTYPE, content[2:]
                tar.addfile(info)
            else:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
    return buf.getvalue()


def busybox_layer(applets: Sequence[str] = ("sh", "echo", "cat", "ls", "sleep")) -> bytes:
    """A root filesystem of Debian's busybox-static with a few applets linked."""
    files: dict[str, bytes | str] = {"bin": "/", "etc": "/", "tmp": "/"}
    files["bin/busybox"] = Path(BUSYBOX).read_bytes()
    files.update({f"bin/{a}": "->busybox" for a in applets})
    files["etc/passwd"] = b"root:x:0:0:root:/root:/bin/sh\n"
    return tar_layer(files)


@dataclass(frozen=True)
class BuiltImage:
    config: bytes
    blobs: list[bytes]  # the layers as a registry holds them (compressed)
    diff_ids: list[str]
    layer_media_type: str
    manifest: bytes
    manifest_media_type: str
    tars: list[bytes] = field(repr=False, default_factory=list)  # uncompressed

    @property
    def id(self) -> str:
        return digest(self.config)

    @property
    def manifest_digest(self) -> str:
        return digest(self.manifest)


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_image(layers: Sequence[bytes], *, config: dict[str, Any] | None = None,
                compression: str = "gzip", docker: bool = False,
                architecture: str = "amd64") -> BuiltImage:
    """An image of uncompressed layer tars: compression gzip, zstd or none; Docker
    v2 schema 2 media types if `docker`, else OCI's."""
    compressors: dict[str, Callable[[bytes], bytes]] = {
        "gzip": lambda b: gzip.compress(b, compresslevel=1, mtime=0),
        "zstd": zstandard.ZstdCompressor().compress, "none": lambda b: b}
    compress = compressors[compression]
    blobs = [compress(layer) for layer in layers]
    diff_ids = [digest(layer) for layer in layers]
    config_bytes = json.dumps({
        "architecture": architecture, "os": "linux", "config": config or {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    if docker:
        layer_type = "application/vnd.docker.image.rootfs.diff.tar.gzip"
        config_type, manifest_type = ("application/vnd.docker.container.image.v1+json",
                                      manifests.DOCKER_MANIFEST)
    else:
        suffix = {"gzip": "+gzip", "zstd": "+zstd", "none": ""}[compression]
        layer_type = "application/vnd.oci.image.layer.v1.tar" + suffix
        config_type, manifest_type = ("application/vnd.oci.image.config.v1+json",
                                      manifests.OCI_MANIFEST)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": manifest_type,
        "config": {"mediaType": config_type, "digest": digest(config_bytes),
                   "size": len(config_bytes)},
        "layers": [{"mediaType": layer_type, "digest": digest(b), "size": len(b)}
                   for b in blobs]}).encode()
    return BuiltImage(config_bytes, blobs, diff_ids, layer_type, manifest, manifest_type,
                      list(layers))


def build_index(images: Sequence[tuple[BuiltImage, manifests.Platform]]) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": manifests.OCI_INDEX, "manifests": [
        {"mediaType": image.manifest_media_type, "digest": image.manifest_digest,
         "size": len(image.manifest),
         "platform": {"os": p.os, "architecture": p.architecture,
                      **({"variant": p.variant} if p.variant else {})}}
        for image, p in images]}).encode()


def write_docker_archive(path: Path, images: Sequence[tuple[BuiltImage, Sequence[str]]], *,
                         docker25: bool = False) -> None:
    """What `docker save` writes: <id>/layer.tar, <config>.json, manifest.json with
    RepoTags; or as Docker 25 and later, files under blobs/sha256/ beside an
    index.json whose ref.name annotation holds only the tag."""
    entries, index = [], []
    with tarfile.open(path, "w") as tar:
        for image, tags in images:
            config_name = (f"blobs/sha256/{image.id[7:]}" if docker25
                           else image.id.removeprefix("sha256:") + ".json")
            _add(tar, config_name, image.config)
            layer_names = []
            for diff_id, layer in zip(image.diff_ids, image.tars):
                name = (f"blobs/sha256/{diff_id[7:]}" if docker25
                        else f"{diff_id.removeprefix('sha256:')}/layer.tar")
                _add(tar, name, layer)
                layer_names.append(name)
            entries.append({"Config": config_name, "RepoTags": list(tags),
                            "Layers": layer_names})
            index += [{"mediaType": image.manifest_media_type, "digest": image.manifest_digest,
                       "size": len(image.manifest),
                       "annotations": {"org.opencontainers.image.ref.name": t.split(":")[-1]}}
                      for t in tags]
        _add(tar, "manifest.json", json.dumps(entries).encode())
        if docker25:
            _add(tar, "index.json", json.dumps({"schemaVersion": 2,
                                                "manifests": index}).encode())
            _add(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')


def write_oci_layout(path: Path, entries: Sequence[tuple[bytes, str, dict[str, str]]],
                     images: Sequence[BuiltImage], *, as_tar: bool = False) -> None:
    """An OCI image layout: index.json lists `entries` (manifest or index bytes, media
    type, annotations); the blobs of `images` and of the entries are under blobs/."""
    files = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode()}
    for image in images:
        for blob in (image.config, image.manifest, *image.blobs):
            files[f"blobs/sha256/{digest(blob)[7:]}"] = blob
    for document, _, _ in entries:
        files[f"blobs/sha256/{digest(document)[7:]}"] = document
    files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": kind, "digest": digest(document), "size": len(document),
         "annotations": annotations} for document, kind, annotations in entries]}).encode()
    if as_tar:
        with tarfile.open(path, "w") as tar:
            for name, data in files.items():
                _add(tar, name, data)
        return
    for name, data in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_bytes(data)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime = len(data), _MTIME
    tar.addfile(info, io.BytesIO(data))


# ---------------------------------------------------------------------------
# A registry on loopback


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TokenServer:
    """A token server as Docker Hub's auth.docker.io: GET /token?service&scope with
    basic credentials gives a JWT the registry trusts (signed by a key whose
    certificate is in its rootcertbundle, named by libtrust's key id)."""

    SERVICE = "kubelite-test-registry"
    ISSUER = "kubelite-test-token-issuer"

    def __init__(self, directory: Path, users: dict[str, str]) -> None:
        self.users = users
        self.requests: list[str] = []
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "token-signer")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(self._key.public_key()).serial_number(1)
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=1))
                .sign(self._key, hashes.SHA256()))
        self.bundle = directory / "token-signer.pem"
        self.bundle.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        der = self._key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
        self._kid = ":".join(encoded[i:i + 4] for i in range(0, len(encoded), 4))
        self.port = free_port()
        self._runner: web.AppRunner | None = None

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/token", self._token)
        app.router.add_post("/token", self._refresh)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _token(self, request: web.Request) -> web.Response:
        scope = request.query.get("scope", "")
        self.requests.append(scope)
        user = ""
        if request.headers.get("Authorization", "").startswith("Basic "):
            pair = base64.b64decode(request.headers["Authorization"][6:]).decode()
            name, _, password = pair.partition(":")
            if self.users.get(name) != password:
                return web.json_response({"details": "bad credentials"}, status=401)
            user = name
        return web.json_response({"token": self._sign(user, scope)})

    async def _refresh(self, request: web.Request) -> web.Response:
        """The OAuth2 refresh-token grant docker uses with an identity token: the
        token is "refresh-<user>" here."""
        form = await request.post()
        self.requests.append(str(form.get("scope", "")))
        user = str(form.get("refresh_token", "")).removeprefix("refresh-")
        if form.get("grant_type") != "refresh_token" or user not in self.users:
            return web.json_response({"details": "bad refresh token"}, status=401)
        return web.json_response({"access_token": self._sign(user, str(form.get("scope", "")))})

    def _sign(self, user: str, scope: str) -> str:
        access = []
        if user and scope.startswith("repository:"):
            _, repository, actions = scope.split(":")
            access.append({"type": "repository", "name": repository,
                           "actions": actions.split(",")})
        now = int(time.time())
        return jwt.encode({"iss": self.ISSUER, "sub": user, "aud": self.SERVICE,
                           "iat": now, "nbf": now - 10, "exp": now + 300,
                           "jti": os.urandom(8).hex(), "access": access},
                          self._key, algorithm="RS256", headers={"kid": self._kid})


def htpasswd(users: dict[str, str]) -> str:
    """An htpasswd file's lines: bcrypt (the only hash docker-registry takes), at its
    lowest cost (2^4 rounds), for the registry checks it on every request."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt

        return "".join(f"{u}:{crypt.crypt(p, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))}\n"
                       for u, p in users.items())


class Registry:
    """Debian's docker-registry serving a temp directory on a free loopback port."""

    def __init__(self, directory: Path, *, auth: dict[str, Any] | None = None) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.directory = directory
        config = {"version": 0.1, "log": {"level": "error", "accesslog": {"disabled": True}},
                  "storage": {"filesystem": {"rootdirectory": str(directory / "storage")},
                              "delete": {"enabled": True}},
                  "http": {"addr": self.host}}
        if auth:
            config["auth"] = auth
        self.config = directory / "registry.json"  # YAML is a superset of JSON
        self.config.write_text(json.dumps(config))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen([DOCKER_REGISTRY, "serve", str(self.config)],
                                         stdout=subprocess.DEVNULL,
                                         stderr=open(self.directory / "registry.log", "wb"))
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError("docker-registry exited: "
                                   + (self.directory / "registry.log").read_text()[-2000:])
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError("docker-registry did not listen within 15 s")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self._process.pid, signal.SIGKILL)
                self._process.wait()
        shutil.rmtree(self.directory / "storage", ignore_errors=True)


async def push(host: str, repository: str, tag: str, image: BuiltImage, *,
               index: bytes | None = None, others: Sequence[BuiltImage] = (),
               auth: cri.AuthConfig | None = None) -> str:
    """Pushes `image` (and `others`) as repository:tag; with `index`, the tag names
    the index instead. Returns the tag's manifest digest. Authenticates through the
    same client a pull uses."""
    async with aiohttp.ClientSession() as session:
        client = RepositoryClient(session, parse(f"{host}/{repository}:{tag}"), auth,
                                  actions="pull,push")
        for built in (image, *others):
            for blob in (built.config, *built.blobs):
                _, headers, _ = await client.fetch("POST", "blobs/uploads/", ok=(202,))
                location = headers["Location"]
                if "://" not in location:
                    location = f"http://{host}{location}"
                separator = "&" if "?" in location else "?"
                await client.fetch("PUT", f"{location}{separator}digest={digest(blob)}",
                                   data=blob, ok=(201,),
                                   headers={"Content-Type": "application/octet-stream"})
            await client.fetch("PUT", f"manifests/{built.manifest_digest}", data=built.manifest,
                               headers={"Content-Type": built.manifest_media_type}, ok=(201,))
        top, kind = (index, manifests.OCI_INDEX) if index else (image.manifest,
                                                                 image.manifest_media_type)
        await client.fetch("PUT", f"manifests/{tag}", data=top, headers={"Content-Type": kind},
                           ok=(201,))
        return digest(top)
