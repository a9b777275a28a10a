"""EncryptionConfiguration files are read and validated as kube-apiserver reads them,
with its messages; a valid one maps resources to transformers in upstream's order."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from kubelite.apiserver.encryption.config import (
    InvalidEncryptionConfiguration,
    load_file,
    parse,
)

K16 = base64.b64encode(bytes(16)).decode()
K32 = base64.b64encode(bytes(32)).decode()
K8 = base64.b64encode(bytes(8)).decode()
HEAD = {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "EncryptionConfiguration"}


def config(*entries: dict[str, Any]) -> dict[str, Any]:
    return {**HEAD, "resources": list(entries)}


def aescbc(*keys: dict[str, Any]) -> dict[str, Any]:
    return {"aescbc": {"keys": list(keys)}}


INVALID = [
    ("no-resources", {**HEAD},
     "resources: Required value: at least one resources is required"),
    ("no-resource-names", config({"resources": [], "providers": [{"identity": {}}]}),
     "resources[0].resources: Required value: at least one resources[0].resources is required"),
    ("no-providers", config({"resources": ["secrets"], "providers": []}),
     "resources[0].providers: Required value: at least one resources[0].providers is required"),
    ("key-too-short", config({"resources": ["secrets"],
                              "providers": [aescbc({"name": "k", "secret": K8})]}),
     'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is '
     "not of the expected length, got 8, expected one of [16 24 32]"),
    ("secretbox-needs-32", config({"resources": ["secrets"], "providers": [
        {"secretbox": {"keys": [{"name": "k", "secret": K16}]}}]}),
     'resources[0].providers[0].secretbox.keys[0].secret: Invalid value: "REDACTED": secret '
     "is not of the expected length, got 16, expected one of [32]"),
    ("not-base64", config({"resources": ["secrets"],
                           "providers": [aescbc({"name": "k", "secret": "%%%"})]}),
     'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secrets '
     "must be base64 encoded"),
    ("key-without-name", config({"resources": ["secrets"],
                                 "providers": [aescbc({"secret": K32})]}),
     "resources[0].providers[0].aescbc.keys[0].name: Required value: name is a mandatory "
     "field for a key"),
    ("no-keys", config({"resources": ["secrets"], "providers": [{"aesgcm": {"keys": []}}]}),
     "resources[0].providers[0].aesgcm.keys: Required value: at least one keys is required"),
    ("two-providers-in-one", config({"resources": ["secrets"], "providers": [
        {"identity": {}, **aescbc({"name": "k", "secret": K32})}]}),
     "more than one provider specified in a single element, should split into different "
     "list elements"),
    ("star", config({"resources": ["*"], "providers": [{"identity": {}}]}),
     "resources[0].resources[0]: Invalid value: \"*\": use '*.' to encrypt all the resources "
     "from core API group or *.* to encrypt all resources"),
    ("capitals", config({"resources": ["Secrets"], "providers": [{"identity": {}}]}),
     'resources[0].resources[0]: Invalid value: "Secrets": resource name should not contain '
     "capital letters"),
    ("overlap", config({"resources": ["secrets", "*."], "providers": [{"identity": {}}]}),
     'resources[0].resources: Invalid value: []string{"secrets", "*."}: using overlapping '
     "resources such as 'secrets' and '*.' in the same resource list is not allowed as they "
     "will be masked"),
    ("duplicate", config({"resources": ["secrets", "secrets"], "providers": [{"identity": {}}]}),
     'resources[0].resources: Invalid value: []string{"secrets", "secrets"}: the same '
     "resource cannot be specified multiple times"),
    ("across-groups", config({"resources": ["secrets.*"], "providers": [{"identity": {}}]}),
     "encrypting the same resource across groups is not supported"),
    ("events-group", config({"resources": ["*.events.k8s.io"], "providers": [{"identity": {}}]}),
     "objects are stored using the 'events' API group in etcd"),
    ("typo", config({"resources": ["secrets"], "providers": [{"aescbcc": {}}]}),
     'strict decoding error: unknown field "resources[0].providers[0].aescbcc"'),
    ("wrong-kind", {"apiVersion": "apiserver.config.k8s.io/v1", "kind": "Foo"},
     'no kind "Foo" is registered for version "apiserver.config.k8s.io/v1"'),
    ("kms", config({"resources": ["secrets"], "providers": [
        {"kms": {"name": "x", "endpoint": "unix:///kms.sock"}}]}),
     "kubelite has no KMS plugins"),
]


@pytest.mark.parametrize("doc,message", [(d, m) for _, d, m in INVALID],
                         ids=[i for i, _, _ in INVALID])
def test_invalid_configurations(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEncryptionConfiguration) as caught:
        parse(doc)
    assert message in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(InvalidEncryptionConfiguration) as caught:
        parse(config({"resources": ["Secrets"], "providers": []}))
    assert str(caught.value).startswith("[")
    assert "capital letters" in str(caught.value) and "providers" in str(caught.value)


def test_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    with pytest.raises(InvalidEncryptionConfiguration, match="error opening encryption "
                       "provider configuration file"):
        load_file(missing)
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(InvalidEncryptionConfiguration, match="is empty"):
        load_file(empty)
    good = tmp_path / "good.yaml"
    good.write_text(f"""
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [secrets]
  providers:
  - aesgcm:
      keys:
      - {{name: key1, secret: {K32}}}
  - identity: {{}}
""")
    assert load_file(good).for_resource("", "secrets") is not None


@pytest.mark.parametrize("resources,group,resource,configured", [
    (["secrets"], "", "secrets", True),
    (["secrets"], "", "configmaps", False),
    (["secrets"], "apps", "secrets", False),
    (["*."], "", "configmaps", True),
    (["*."], "apps", "deployments", False),
    (["*.apps"], "apps", "deployments", True),
    (["deployments.apps"], "apps", "deployments", True),
    (["deployments.apps"], "apps", "statefulsets", False),
    (["*.*"], "example.com", "widgets", True),
], ids=["named", "other-resource", "other-group", "core-wildcard", "core-wildcard-not-apps",
        "group-wildcard", "group-resource", "group-resource-other", "everything"])
def test_resource_lookup(resources: list[str], group: str, resource: str,
                         configured: bool) -> None:
    found = parse(config({"resources": resources, "providers": [{"identity": {}}]}))
    assert (found.for_resource(group, resource) is not None) is configured


def test_a_named_resource_wins_over_wildcards_and_the_first_entry_wins() -> None:
    found = parse(config(
        {"resources": ["*.*"], "providers": [aescbc({"name": "all", "secret": K32})]},
        {"resources": ["secrets"], "providers": [aescbc({"name": "secrets", "secret": K32})]},
        {"resources": ["secrets"], "providers": [aescbc({"name": "later", "secret": K32})]},
    ))
    secrets = found.for_resource("", "secrets")
    assert secrets is not None
    assert secrets.seal(b"{}", b"k").startswith(b"k8s:enc:aescbc:v1:secrets:")
    pods = found.for_resource("", "pods")
    assert pods is not None and pods.seal(b"{}", b"k").startswith(b"k8s:enc:aescbc:v1:all:")
