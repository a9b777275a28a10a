"""Image references, normalized as docker and containerd do (distribution/reference).

A pod says `busybox`; the node stores `docker.io/library/busybox:latest`. The rules
are those of ParseNormalizedNamed and TagNameOnly in github.com/distribution/reference:

- the first path component is a registry (a "domain") only if it holds a `.` or a
  `:`, or is `localhost`, and has no upper-case letter; otherwise the registry is
  docker.io, and `index.docker.io` is docker.io too;
- on docker.io a name of one component lives under `library/`;
- the repository path is lower case, components of [a-z0-9] joined by `.`, `_`,
  `__` or runs of `-`, and the whole name is at most 255 characters;
- a reference with neither tag nor digest gets the tag `latest`; a digest without a
  tag stays untagged; a 64-hex string is an image id, not a name.

A malformed reference raises InvalidReference, whose message is docker's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_DOMAIN = "docker.io"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
OFFICIAL_REPOSITORY_PREFIX = "library/"
DEFAULT_TAG = "latest"
NAME_TOTAL_LENGTH_MAX = 255

_ALPHANUMERIC = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALPHANUMERIC}(?:{_SEPARATOR}{_ALPHANUMERIC})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|{_IPV6})(?::[0-9]+)?"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_DOMAIN_RE = re.compile(_DOMAIN)
_TAG_RE = re.compile(_TAG)
_DIGEST_RE = re.compile(_DIGEST)
_ID_RE = re.compile(r"[a-f0-9]{64}")


class InvalidReference(ValueError):
    """Not an image reference docker would accept."""


@dataclass(frozen=True, slots=True)
class Reference:
    """A normalized reference: `domain/path[:tag][@digest]`."""

    domain: str
    path: str  # the repository inside the registry: "library/busybox"
    tag: str = ""
    digest: str = ""

    @property
    def name(self) -> str:
        """The repository's full name: docker.io/library/busybox."""
        return f"{self.domain}/{self.path}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def with_digest(self, digest: str) -> Reference:
        """name@digest, the repo digest a pulled image is known by."""
        return Reference(self.domain, self.path, digest=digest)


def parse(text: str) -> Reference:
    """Parses and normalizes a reference as docker does (ParseNormalizedNamed and
    TagNameOnly): `busybox` -> docker.io/library/busybox:latest."""
    if _ID_RE.fullmatch(text):
        raise InvalidReference(f"invalid repository name ({text}), cannot specify 64-byte "
                               "hexadecimal strings")
    if not text:
        raise InvalidReference("invalid reference format: repository name must have at "
                               "least one component")
    remainder, _, digest = text.partition("@")
    if digest and not _DIGEST_RE.fullmatch(digest):
        raise InvalidReference(f"invalid reference format: {text!r} has an invalid digest")
    tag = ""
    # a ":" after the last "/" starts the tag; one before it is a registry's port
    colon = remainder.rfind(":")
    if colon > remainder.rfind("/"):
        remainder, tag = remainder[:colon], remainder[colon + 1:]
        if not _TAG_RE.fullmatch(tag):
            raise InvalidReference(f"invalid reference format: {text!r} has an invalid tag")
    domain, path = _split_domain(remainder)
    if not _DOMAIN_RE.fullmatch(domain):
        raise InvalidReference(f"invalid reference format: {text!r}")
    if path.lower() != path:
        raise InvalidReference(f"invalid reference format: repository name ({path}) "
                               "must be lowercase")
    if not _PATH_RE.fullmatch(path):
        raise InvalidReference(f"invalid reference format: {text!r}")
    if len(domain) + 1 + len(path) > NAME_TOTAL_LENGTH_MAX:
        raise InvalidReference(f"invalid reference format: repository name must not be "
                               f"more than {NAME_TOTAL_LENGTH_MAX} characters")
    if not tag and not digest:
        tag = DEFAULT_TAG
    return Reference(domain, path, tag, digest)


def _split_domain(name: str) -> tuple[str, str]:
    slash = name.find("/")
    first = name[:slash]
    if slash == -1 or (not any(c in first for c in ".:") and first != "localhost"
                       and first.lower() == first):
        domain, path = DEFAULT_DOMAIN, name
    else:
        domain, path = first, name[slash + 1:]
    if domain == LEGACY_DEFAULT_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in path:
        path = OFFICIAL_REPOSITORY_PREFIX + path
    return domain, path


def is_digest(text: str) -> bool:
    return bool(_DIGEST_RE.fullmatch(text))
