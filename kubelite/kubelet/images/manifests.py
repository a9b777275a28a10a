"""Manifests, indexes and platforms: what the OCI image spec and Docker's v2 schema 2
call them, and how one image of an index is picked for this node.

An image index (OCI) or manifest list (Docker) names one manifest per platform. As
containerd's default platform matcher does, a node takes the entry whose os and
architecture are its own, preferring its own variant, then one without a variant;
entries of the platform "unknown/unknown" are build attestations, not images.
"""

from __future__ import annotations

import json
import platform as host
from dataclasses import dataclass
from typing import Any

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_SCHEMA1 = ("application/vnd.docker.distribution.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.v1+prettyjws")
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
# what a pull asks a registry for, most wanted first
ACCEPTED = (OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

# the Go names of Python's machine names
_ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
                  "armv7l": "arm", "armv6l": "arm", "i686": "386", "i386": "386",
                  "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
_VARIANTS = {"aarch64": "v8", "arm64": "v8", "armv7l": "v7", "armv6l": "v6"}


class ManifestError(ValueError):
    """A manifest or index that is malformed, unsupported, or has nothing for us."""


@dataclass(frozen=True, slots=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def host_platform() -> Platform:
    machine = host.machine()
    return Platform("linux", _ARCHITECTURES.get(machine, machine), _VARIANTS.get(machine, ""))


def parse_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        parsed = json.loads(data)
    except ValueError as err:
        raise ManifestError(f"{what} is not JSON: {err}") from err
    if not isinstance(parsed, dict):
        raise ManifestError(f"{what} is not a JSON object")
    return parsed


def media_type(document: dict[str, Any], declared: str = "") -> str:
    """A manifest's media type: the one it says, else the one it was served with,
    else what its fields make it (an OCI manifest need not say)."""
    kind = document.get("mediaType") or declared.split(";")[0].strip()
    if kind in DOCKER_SCHEMA1 or document.get("schemaVersion") == 1:
        raise ManifestError("Docker image manifest schema 1 is not supported (it was "
                            "retired in 2019); push the image again with a current client")
    if kind in INDEX_TYPES or kind in MANIFEST_TYPES:
        return str(kind)
    if "manifests" in document:
        return OCI_INDEX
    if "config" in document and "layers" in document:
        return OCI_MANIFEST
    raise ManifestError(f"unsupported manifest media type {kind!r}")


def pick_platform(index: dict[str, Any], wanted: Platform) -> dict[str, Any]:
    """The descriptor of the manifest for `wanted` in an index (ManifestError if
    there is none, naming the platforms there are)."""
    best: tuple[int, dict[str, Any]] | None = None
    offered = []
    for descriptor in index.get("manifests") or []:
        if not isinstance(descriptor, dict) or "digest" not in descriptor:
            raise ManifestError("index entry without a digest")
        entry = descriptor.get("platform")
        if not isinstance(entry, dict):
            entry = {}
        os_name, arch = entry.get("os", ""), entry.get("architecture", "")
        if (os_name, arch) == ("unknown", "unknown"):
            continue  # an attestation manifest (buildx), not an image
        variant = entry.get("variant", "")
        offered.append(str(Platform(os_name, arch, variant)))
        if (os_name, arch) != (wanted.os, wanted.architecture):
            continue
        rank = 2 if variant == wanted.variant else 1 if not variant else 0
        if wanted.architecture == "arm64" and variant not in ("", "v8"):
            continue  # arm64 runs only v8 images (or unmarked ones)
        if best is None or rank > best[0]:
            best = (rank, descriptor)
    if best is None:
        raise ManifestError(f"no image for platform {wanted} (the index has "
                            f"{', '.join(offered) or 'none'})")
    return best[1]


def layer_digests(manifest: dict[str, Any]) -> list[str]:
    layers = manifest.get("layers")
    if not isinstance(layers, list) or not all(isinstance(d, dict) and "digest" in d
                                               for d in layers):
        raise ManifestError("manifest has no valid layers list")
    return [str(d["digest"]) for d in layers]


def config_digest(manifest: dict[str, Any]) -> str:
    config = manifest.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("digest"), str):
        raise ManifestError("manifest has no config descriptor")
    return str(config["digest"])


def diff_ids(config: dict[str, Any]) -> list[str]:
    """The uncompressed digests of an image's layers, lowest first."""
    rootfs = config.get("rootfs")
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(ids, list) or not all(isinstance(d, str) and d.startswith("sha256:")
                                            and len(d) == 71 for d in ids):
        raise ManifestError("image config has no valid rootfs.diff_ids")
    return [str(d) for d in ids]
