from __future__ import annotations

import pytest

from kubelite.kubelet.images.reference import InvalidReference, parse

DIGEST = "sha256:" + "ab" * 32

# Outcomes of distribution/reference's ParseNormalizedNamed + TagNameOnly
# (normalize_test.go, reference_test.go upstream).
NORMALIZED = [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("docker.io/busybox", "docker.io/library/busybox:latest"),
    ("index.docker.io/busybox:1", "docker.io/library/busybox:1"),
    ("journey/busybox:1", "docker.io/journey/busybox:1"),
    ("docker.io/journey/busybox:1", "docker.io/journey/busybox:1"),
    ("localhost/foo", "localhost/foo:latest"),
    ("localhost:5000/foo/bar:v2", "localhost:5000/foo/bar:v2"),
    ("127.0.0.1:5000/foo", "127.0.0.1:5000/foo:latest"),
    ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
    ("Foo/bar", "Foo/bar:latest"),  # an upper-case first component is a registry
    ("[::1]:5000/foo", "[::1]:5000/foo:latest"),
    (f"busybox@{DIGEST}", f"docker.io/library/busybox@{DIGEST}"),
    (f"busybox:1@{DIGEST}", f"docker.io/library/busybox:1@{DIGEST}"),
    ("a/b__c/d-e--f.g:t_A.g-1", "docker.io/a/b__c/d-e--f.g:t_A.g-1"),
]


@pytest.mark.parametrize("text,normalized", NORMALIZED, ids=[t for t, _ in NORMALIZED])
def test_reference_is_normalized_as_docker_does(text: str, normalized: str) -> None:
    assert str(parse(text)) == normalized


INVALID = [
    ("", "at least one component"),
    ("Busybox", "must be lowercase"),
    ("docker.io/Library/busybox", "must be lowercase"),
    ("busybox:", "invalid tag"),
    ("busybox:-x", "invalid tag"),
    ("busybox@sha256:abc", "invalid digest"),
    ("-busybox", "invalid reference format"),
    ("busy..box", "invalid reference format"),
    ("a//b", "invalid reference format"),
    ("ab" * 32, "64-byte hexadecimal"),
    ("x/" + "a" * 260, "255 characters"),
    ("exa_mple.com/foo", "invalid reference format"),
]


@pytest.mark.parametrize("text,message", INVALID, ids=[t[:20] or "empty" for t, _ in INVALID])
def test_malformed_reference_is_refused_with_dockers_reason(text: str, message: str) -> None:
    with pytest.raises(InvalidReference, match=message):
        parse(text)


def test_reference_parts() -> None:
    ref = parse("localhost:5000/team/app:v1")
    assert (ref.domain, ref.path, ref.tag, ref.name) == (
        "localhost:5000", "team/app", "v1", "localhost:5000/team/app")
    assert str(ref.with_digest(DIGEST)) == f"localhost:5000/team/app@{DIGEST}"
