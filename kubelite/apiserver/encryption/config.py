"""EncryptionConfiguration (apiserver.config.k8s.io/v1): which resources are sealed at
rest, by which providers and keys (upstream's server/options/encryptionconfig and
apis/apiserver/validation/validation_encryption.go).

    apiVersion: apiserver.config.k8s.io/v1
    kind: EncryptionConfiguration
    resources:
    - resources: [secrets, configmaps, "*.apps"]
      providers:
      - aescbc: {keys: [{name: key2, secret: <base64 of 32 bytes>}, {name: key1, ...}]}
      - identity: {}

A file is read whole, decoded strictly (an unknown field is an error, as upstream's
strict decoder says) and validated with upstream's rules and messages; the first
problem never hides the others. Every provider's keys become prefix transformers in
file order, so the first key of the first provider seals and all of them open.

A resource is looked up as upstream does: its own name (`secrets`,
`deployments.apps`), then its group's wildcard (`*.` for the core group, `*.apps`),
then `*.*`; a resource named in two entries follows the first.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kubelite.apiserver.encryption.transformers import (
    AESCBCTransformer,
    AESGCMTransformer,
    IdentityTransformer,
    PrefixTransformer,
    PrefixTransformers,
    SecretboxTransformer,
    Transformer,
)

API_VERSION = "apiserver.config.k8s.io/v1"
KIND = "EncryptionConfiguration"

AES_KEY_SIZES = (16, 24, 32)
SECRETBOX_KEY_SIZES = (32,)

# provider name in the file -> (its key sizes, its transformer for a key)
KEYED_PROVIDERS: dict[str, tuple[tuple[int, ...], Callable[[bytes], Transformer]]] = {
    "aesgcm": (AES_KEY_SIZES, AESGCMTransformer),
    "aescbc": (AES_KEY_SIZES, AESCBCTransformer),
    "secretbox": (SECRETBOX_KEY_SIZES, SecretboxTransformer),
}
PROVIDER_FIELDS = ("kms", "aesgcm", "aescbc", "secretbox", "identity")
_NON_REST = frozenset({"apiserveripinfo", "serviceipallocations", "servicenodeportallocations"})


class InvalidEncryptionConfiguration(Exception):
    """The file cannot be used; the message says every reason, as upstream prints it."""


GroupResource = tuple[str, str]  # (group, resource); "*" stands for any


def parse_group_resource(text: str) -> GroupResource:
    """schema.ParseGroupResource: `deployments.apps` -> ("apps", "deployments")."""
    resource, _, group = text.partition(".")
    return group, resource


@dataclass
class EncryptionConfig:
    """Transformers by group-resource, with upstream's lookup order."""

    by_resource: dict[GroupResource, PrefixTransformers] = field(default_factory=dict)

    def for_resource(self, group: str, resource: str) -> PrefixTransformers | None:
        """None: the resource is not configured and is stored as it is."""
        found = self.by_resource
        return (found.get((group, resource)) or found.get((group, "*"))
                or found.get(("*", "*")))


def load_file(path: Path) -> EncryptionConfig:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InvalidEncryptionConfiguration(
            f"error opening encryption provider configuration file {str(path)!r}: "
            f"{err.strerror or err}") from None
    if not data.strip():
        raise InvalidEncryptionConfiguration(
            f"encryption provider configuration file {str(path)!r} is empty")
    try:
        doc = yaml.safe_load(data)
    except yaml.YAMLError as err:
        raise InvalidEncryptionConfiguration(
            f"error decoding encryption provider configuration file {str(path)!r}: "
            f"{err}") from None
    try:
        return parse(doc)
    except InvalidEncryptionConfiguration as err:
        raise InvalidEncryptionConfiguration(
            f"error loading encryption provider configuration file {str(path)!r}: "
            f"{err}") from None


def parse(doc: Any) -> EncryptionConfig:
    """The configuration a decoded document describes; InvalidEncryptionConfiguration
    with every problem otherwise."""
    if not isinstance(doc, dict):
        raise InvalidEncryptionConfiguration("the configuration is not an object")
    api_version, kind = doc.get("apiVersion"), doc.get("kind")
    if api_version != API_VERSION or kind != KIND:
        raise InvalidEncryptionConfiguration(
            f'no kind "{kind}" is registered for version "{api_version}"; '
            f"expected apiVersion {API_VERSION} and kind {KIND}")
    unknown = _unknown_fields(doc)
    if unknown:
        raise InvalidEncryptionConfiguration(
            "strict decoding error: " + ", ".join(f'unknown field "{f}"' for f in unknown))
    problems = validate(doc)
    if problems:
        raise InvalidEncryptionConfiguration(
            problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]")
    return build(doc)


def _unknown_fields(doc: dict[str, Any]) -> list[str]:
    unknown = [k for k in doc if k not in ("apiVersion", "kind", "resources")]
    for i, entry in enumerate(doc.get("resources") or []):
        if not isinstance(entry, dict):
            continue
        unknown += [f"resources[{i}].{k}" for k in entry if k not in ("resources", "providers")]
        for j, provider in enumerate(entry.get("providers") or []):
            if not isinstance(provider, dict):
                continue
            here = f"resources[{i}].providers[{j}]"
            unknown += [f"{here}.{k}" for k in provider if k not in PROVIDER_FIELDS]
            for name in KEYED_PROVIDERS:
                keys = (provider.get(name) or {}).get("keys") if isinstance(
                    provider.get(name), dict) else None
                for n, key in enumerate(keys or []):
                    if isinstance(key, dict):
                        unknown += [f"{here}.{name}.keys[{n}].{k}" for k in key
                                    if k not in ("name", "secret")]
    return unknown


def _go_strings(values: list[Any]) -> str:
    return "[]string{" + ", ".join(f'"{v}"' for v in values) + "}"


def validate(doc: dict[str, Any]) -> list[str]:
    """ValidateEncryptionConfiguration's field errors, in its order and words."""
    entries = doc.get("resources")
    if not entries:
        return ["resources: Required value: at least one resources is required"]
    problems: list[str] = []
    for i, entry in enumerate(entries):
        entry = entry if isinstance(entry, dict) else {}
        r, p = f"resources[{i}].resources", f"resources[{i}].providers"
        resources = [str(x) for x in entry.get("resources") or []]
        if not resources:
            problems.append(f"{r}: Required value: at least one {r} is required")
        problems += _resource_overlap(resources, r)
        problems += _resource_names(resources, r)
        providers = entry.get("providers") or []
        if not providers:
            problems.append(f"{p}: Required value: at least one {p} is required")
        for j, provider in enumerate(providers):
            problems += _provider(provider if isinstance(provider, dict) else {}, f"{p}[{j}]")
    return problems


def _resource_overlap(resources: list[str], path: str) -> list[str]:
    parsed = [parse_group_resource(r) for r in resources]
    duplicate = overlap = False
    for i, (g1, r1) in enumerate(parsed):
        for j, (g2, r2) in enumerate(parsed):
            if i == j:
                continue
            if (g1, r1) == (g2, r2):
                duplicate = True
                continue
            if (g1, r1) == ("*", "*") or (g1 == g2 and "*" in (r1, r2)):
                overlap = True
    problems = []
    if duplicate:
        problems.append(f"{path}: Invalid value: {_go_strings(resources)}: the same resource "
                        f"cannot be specified multiple times")
    if overlap:
        problems.append(f"{path}: Invalid value: {_go_strings(resources)}: using overlapping "
                        f"resources such as 'secrets' and '*.' in the same resource list is "
                        f"not allowed as they will be masked")
    return problems


def _resource_names(resources: list[str], path: str) -> list[str]:
    problems = []
    for j, res in enumerate(resources):
        here = f'{path}[{j}]: Invalid value: "{res}": '
        group, resource = parse_group_resource(res)
        if res.lower() != res:
            problems.append(here + "resource name should not contain capital letters")
        elif res == "*":
            problems.append(here + "use '*.' to encrypt all the resources from core API "
                            "group or *.* to encrypt all resources")
        elif res in _NON_REST:
            problems.append(here + "resources which do not have REST API/s cannot be encrypted")
        elif group == "events.k8s.io":
            problems.append(here + "'*.events.k8s.io' objects are stored using the 'events' "
                            "API group in etcd. Use 'events' instead in the config file")
        elif group == "extensions":
            problems.append(here + "'extensions' group has been removed and cannot be used "
                            "for encryption")
        elif group == "*" and resource != "*":
            problems.append(here + "encrypting the same resource across groups is not "
                            "supported")
    return problems


def _provider(provider: dict[str, Any], path: str) -> list[str]:
    present = [name for name in PROVIDER_FIELDS if provider.get(name) is not None]
    if not present:
        return [f"{path}: Invalid value: {provider}: provider does not contain any of the "
                f"expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity"]
    if len(present) > 1:
        return [f"{path}: Invalid value: {provider}: more than one provider specified in a "
                f"single element, should split into different list elements"]
    name = present[0]
    if name == "kms":
        return [f"{path}.kms: Unsupported value: kubelite has no KMS plugins; "
                f"use aescbc, aesgcm or secretbox"]
    if name == "identity":
        return []
    sizes = KEYED_PROVIDERS[name][0]
    keys = (provider[name] or {}).get("keys") if isinstance(provider[name], dict) else None
    kpath = f"{path}.{name}.keys"
    if not keys:
        return [f"{kpath}: Required value: at least one keys is required"]
    problems = []
    for n, key in enumerate(keys):
        key = key if isinstance(key, dict) else {}
        if not key.get("name"):
            problems.append(f"{kpath}[{n}].name: Required value: name is a mandatory field "
                            f"for a key")
        secret = key.get("secret")
        if not secret:
            problems.append(f"{kpath}[{n}].secret: Required value: secret is a mandatory "
                            f"field for a key")
            continue
        decoded = _base64(str(secret))
        if decoded is None:
            problems.append(f'{kpath}[{n}].secret: Invalid value: "REDACTED": secrets must '
                            f"be base64 encoded")
        elif len(decoded) not in sizes:
            problems.append(f'{kpath}[{n}].secret: Invalid value: "REDACTED": secret is not '
                            f"of the expected length, got {len(decoded)}, expected one of "
                            f"[{' '.join(str(s) for s in sizes)}]")
    return problems


def _base64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def build(doc: dict[str, Any]) -> EncryptionConfig:
    """The transformers of a valid document."""
    config = EncryptionConfig()
    for entry in doc["resources"]:
        chain: list[PrefixTransformer] = []
        for provider in entry["providers"]:
            name = next(n for n in PROVIDER_FIELDS if provider.get(n) is not None)
            if name == "identity":
                chain.append(PrefixTransformer(b"", IdentityTransformer()))
                continue
            factory = KEYED_PROVIDERS[name][1]
            for key in provider[name]["keys"]:
                prefix = f"k8s:enc:{name}:v1:{key['name']}:".encode()
                chain.append(PrefixTransformer(prefix, factory(base64.b64decode(key["secret"]))))
        transformers = PrefixTransformers(chain)
        for resource in entry["resources"]:
            config.by_resource.setdefault(parse_group_resource(resource), transformers)
    return config
