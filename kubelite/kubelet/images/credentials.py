"""imagePullSecrets: which credentials a pull of an image tries, as upstream's kubelet
picks them (pkg/credentialprovider/keyring.go, kuberuntime_image.go PullImage).

A pod's imagePullSecrets are Secrets of type kubernetes.io/dockerconfigjson (data
`.dockerconfigjson`: {"auths": {KEY: entry}}) or kubernetes.io/dockercfg (data
`.dockercfg`: {KEY: entry}). An entry has username and password, or `auth`
(base64 of "username:password", which wins), or an identity token. A KEY is a
registry host, optionally with a scheme, a port and a path (`https://index.docker.io/v1/`,
`registry.example.com:5000/team`), and its host may hold globs per label
(`*.example.com`).

An image matches a KEY when its normalized repository (docker.io/library/busybox)
has the same number of host labels, each matching the glob, the same port, and a
path that starts with the KEY's path (/v1/ and /v2/ prefixes do not count). The
keys are tried most specific first (reverse sorted). When nothing matches, a Docker
Hub image takes the credentials of `index.docker.io`. The pull tries each
credential in turn, and without credentials when there are none; the last failure
is the one reported.
"""

from __future__ import annotations

import base64
import binascii
import fnmatch
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from kubelite.kubelet import cri
from kubelite.kubelet.images import reference

log = logging.getLogger(__name__)

DOCKER_CONFIG_JSON = ("kubernetes.io/dockerconfigjson", ".dockerconfigjson")
DOCKER_CFG = ("kubernetes.io/dockercfg", ".dockercfg")
DEFAULT_REGISTRY_HOST = "index.docker.io"


class Keyring:
    """Credentials by registry key, most specific key first."""

    def __init__(self, configs: Sequence[Mapping[str, Any]] = ()) -> None:
        """`configs` are docker config "auths" maps: {KEY: entry}."""
        self._credentials: dict[str, list[cri.AuthConfig]] = {}
        for config in configs:
            for key, entry in config.items():
                if isinstance(entry, Mapping):
                    self._credentials.setdefault(_key(key), []).append(_auth_config(entry))
        self._index = sorted(self._credentials, reverse=True)

    def lookup(self, image: str) -> list[cri.AuthConfig]:
        """The credentials to try for `image`, in order (may be empty)."""
        try:
            repository = reference.parse(image).name
        except reference.InvalidReference:
            return []
        found = [c for key in self._index if _matches(key, repository)
                 for c in self._credentials[key]]
        if not found and _is_docker_hub(repository):
            found = list(self._credentials.get(DEFAULT_REGISTRY_HOST, []))
        return found


def keyring_from_secrets(secrets: Sequence[Mapping[str, Any]]) -> Keyring:
    """A Keyring of the docker config Secrets among `secrets` (Secret objects as the API
    serves them); a Secret that cannot be read is left out, with a warning."""
    configs = []
    for secret in secrets:
        kind, data = secret.get("type"), secret.get("data") or {}
        for secret_type, data_key in (DOCKER_CONFIG_JSON, DOCKER_CFG):
            if kind != secret_type or data_key not in data:
                continue
            try:
                parsed = json.loads(base64.b64decode(data[data_key]))
            except (ValueError, binascii.Error) as err:
                name = secret.get("metadata", {}).get("name", "")
                log.warning("imagePullSecret %s: cannot read %s: %s", name, data_key, err)
                continue
            if not isinstance(parsed, dict):
                continue
            auths = parsed.get("auths") if data_key == DOCKER_CONFIG_JSON[1] else parsed
            if isinstance(auths, Mapping):
                configs.append(auths)
    return Keyring(configs)


async def pull_with_keyring(images: cri.ImageService, image: str, keyring: Keyring) -> str:
    """Pulls `image` with each of its credentials in turn (without any if it has none),
    as upstream's kubelet does; raises the last failure."""
    credentials = keyring.lookup(image)
    if not credentials:
        return await images.pull_image(image, None)
    failure: cri.ImagePullError | None = None
    for auth in credentials:
        try:
            return await images.pull_image(image, auth)
        except cri.ImagePullError as err:
            failure = err
    assert failure is not None  # credentials was not empty
    raise failure


def _key(text: str) -> str:
    """A config key as the keyring indexes it: host[:port][path], without scheme or a
    /v1/ or /v2/ API prefix."""
    rest = text.split("://", 1)[1] if "://" in text else text
    host, slash, path = rest.partition("/")
    path = slash + path
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    return host if path in ("", "/") else host + path


def _split(url: str) -> tuple[list[str], str, str]:
    """(host labels, port, path) of a schemeless URL."""
    hostport, slash, path = url.partition("/")
    host, _, port = hostport.partition(":") if not hostport.startswith("[") else (
        hostport, "", "")
    return host.split("."), port, slash + path


def _matches(key: str, repository: str) -> bool:
    key_labels, key_port, key_path = _split(key)
    labels, port, path = _split(repository)
    return (key_port == port and len(key_labels) == len(labels) and path.startswith(key_path)
            and all(fnmatch.fnmatchcase(label, glob) for glob, label in zip(key_labels, labels)))


def _is_docker_hub(repository: str) -> bool:
    return repository.split("/", 1)[0] in ("docker.io", DEFAULT_REGISTRY_HOST)


def _auth_config(entry: Mapping[str, Any]) -> cri.AuthConfig:
    username, password = str(entry.get("username", "")), str(entry.get("password", ""))
    encoded = str(entry.get("auth", ""))
    if encoded:
        try:
            username, _, password = base64.b64decode(encoded).decode().partition(":")
        except (ValueError, binascii.Error):
            log.warning("docker config entry with an undecodable auth field")
    return cri.AuthConfig(username=username, password=password,
                          identity_token=str(entry.get("identitytoken", "")),
                          registry_token=str(entry.get("registrytoken", "")))
