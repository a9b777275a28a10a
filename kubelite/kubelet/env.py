"""A container's environment (kubelet_pods.go makeEnvironmentVariables) and the
`$(VAR)` expansion of its env values, command and args (third_party/forked/golang/expansion).

Order, as upstream: the Service variables (service_env.py) are the base; envFrom
sources (ConfigMaps, Secrets, with their prefix; keys that are not valid variable names
are skipped and reported) and then env entries come on top, later ones replacing
earlier ones of the same name. An env value may refer to variables defined before it,
and to the Service variables, as `$(NAME)`; `$$` is a literal `$`; an unknown
reference stays as written.

valueFrom: fieldRef (metadata.name/namespace/uid, metadata.labels['k'],
metadata.annotations['k'], spec.nodeName, spec.serviceAccountName, status.hostIP(s),
status.podIP(s)), resourceFieldRef (limits/requests of cpu, memory,
ephemeral-storage with the divisor rounded up; an unset limit is the node's
allocatable), configMapKeyRef and secretKeyRef. A missing object or key that is not
optional is an EnvError, which the kubelet reports as CreateContainerConfigError.

The ConfigMaps and Secrets are read by `load_sources` before the container is made
(upstream's configmap/secret managers; here a GET each, since a container start is rare).
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kubelite.client.rest import Client
from kubelite.machinery import errors
from kubelite.machinery.quantity import parse_json

Obj = dict[str, Any]

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


class EnvError(Exception):
    """The container's environment cannot be made (CreateContainerConfigError)."""


def expand(text: str, mapping: Mapping[str, str]) -> str:
    """`$(NAME)` replaced from `mapping`; `$$` is `$`; anything else stays."""
    out: list[str] = []
    checkpoint = 0
    cursor = 0
    while cursor < len(text):
        if text[cursor] == "$" and cursor + 1 < len(text):
            out.append(text[checkpoint:cursor])
            nxt = text[cursor + 1]
            if nxt == "$":
                out.append("$")
                advance = 1
            elif nxt == "(":
                close = text.find(")", cursor + 2)
                if close == -1:
                    out.append("$(")
                    advance = 1
                else:
                    name = text[cursor + 2:close]
                    out.append(mapping[name] if name in mapping else f"$({name})")
                    advance = close - cursor
            else:
                out.append("$" + nxt)
                advance = 1
            cursor += advance
            checkpoint = cursor + 1
        cursor += 1
    return "".join(out) + text[checkpoint:]


@dataclass
class EnvSources:
    """The ConfigMaps' and Secrets' data a pod's env refers to; None: not found."""

    config_maps: dict[str, dict[str, str] | None] = field(default_factory=dict)
    secrets: dict[str, dict[str, str] | None] = field(default_factory=dict)


def _referenced(pod: Obj) -> tuple[set[str], set[str]]:
    spec = pod.get("spec") or {}
    maps: set[str] = set()
    secrets: set[str] = set()
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or ():
            for source in c.get("envFrom") or ():
                if (source.get("configMapRef") or {}).get("name"):
                    maps.add(source["configMapRef"]["name"])
                if (source.get("secretRef") or {}).get("name"):
                    secrets.add(source["secretRef"]["name"])
            for var in c.get("env") or ():
                value_from = var.get("valueFrom") or {}
                if (value_from.get("configMapKeyRef") or {}).get("name"):
                    maps.add(value_from["configMapKeyRef"]["name"])
                if (value_from.get("secretKeyRef") or {}).get("name"):
                    secrets.add(value_from["secretKeyRef"]["name"])
    return maps, secrets


def _decode(data: Mapping[str, str]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in data.items()}


async def load_sources(client: Client, pod: Obj) -> EnvSources:
    namespace = pod["metadata"].get("namespace") or "default"
    maps, secrets = _referenced(pod)
    sources = EnvSources()
    for name in sorted(maps):
        try:
            cm = await client.get("configmaps", name, namespace=namespace)
        except errors.NotFound:
            sources.config_maps[name] = None
            continue
        data = {str(k): str(v) for k, v in (cm.get("data") or {}).items()}
        sources.config_maps[name] = {**data, **_decode(cm.get("binaryData") or {})}
    for name in sorted(secrets):
        try:
            secret = await client.get("secrets", name, namespace=namespace)
        except errors.NotFound:
            sources.secrets[name] = None
            continue
        sources.secrets[name] = {**_decode(secret.get("data") or {}),
                                 **{str(k): str(v) for k, v in
                                    (secret.get("stringData") or {}).items()}}
    return sources


@dataclass(frozen=True)
class PodFacts:
    """What fieldRef and resourceFieldRef read beyond the pod's own spec."""

    host_ip: str
    pod_ips: tuple[str, ...]
    node_allocatable: Mapping[str, Any]


def _field_ref(pod: Obj, path: str, facts: PodFacts) -> str:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    match = re.fullmatch(r"metadata\.(labels|annotations)\['(.*)'\]", path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    simple = {
        "metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.hostIP": facts.host_ip, "status.hostIPs": facts.host_ip,
        "status.podIP": facts.pod_ips[0] if facts.pod_ips else "",
        "status.podIPs": ",".join(facts.pod_ips),
    }
    if path not in simple:
        raise EnvError(f"unsupported fieldRef fieldPath {path!r}")
    return str(simple[path] or "")


def resource_field_value(container: Obj, ref: Obj, allocatable: Mapping[str, Any]) -> str:
    """ExtractContainerResourceValue: the amount over the divisor, rounded up."""
    kind, _, name = str(ref.get("resource", "")).partition(".")
    if kind not in ("limits", "requests") or name not in ("cpu", "memory", "ephemeral-storage"):
        raise EnvError(f"unsupported container resource {ref.get('resource')!r}")
    resources = container.get("resources") or {}
    amount = (resources.get(kind) or {}).get(name)
    if amount is None and kind == "limits":
        amount = allocatable.get(name)
    if amount is None and kind == "requests":
        amount = 0  # no request: 0 (upstream reads the empty quantity)
    value = parse_json(amount)
    divisor = parse_json(ref.get("divisor") or "1")
    if divisor.is_zero():
        raise EnvError("divisor must not be zero")
    if name == "cpu":
        return str(math.ceil(value.milli_value() / divisor.milli_value()))
    return str(math.ceil(value.value() / max(1, divisor.value())))


def _key_ref(kind: str, store: Mapping[str, dict[str, str] | None], ref: Obj,
             namespace: str) -> str | None:
    name = ref.get("name", "")
    optional = bool(ref.get("optional"))
    data = store.get(name)
    if data is None:
        if optional:
            return None
        raise EnvError(f'{kind.lower()} "{name}" not found')
    key = ref.get("key", "")
    if key not in data:
        if optional:
            return None
        raise EnvError(f"couldn't find key {key} in {kind} {namespace}/{name}")
    return data[key]


def make_environment(pod: Obj, container: Obj, sources: EnvSources, facts: PodFacts,
                     service_vars: Mapping[str, str]) -> tuple[list[tuple[str, str]], list[str]]:
    """The container's variables in order, and the envFrom keys skipped as invalid
    names (an InvalidEnvironmentVariableNames event). Raises EnvError."""
    namespace = pod["metadata"].get("namespace") or "default"
    env: dict[str, str] = {}
    skipped: list[str] = []
    for source in container.get("envFrom") or ():
        prefix = str(source.get("prefix") or "")
        if source.get("configMapRef"):
            ref, kind, store = source["configMapRef"], "ConfigMap", sources.config_maps
        elif source.get("secretRef"):
            ref, kind, store = source["secretRef"], "Secret", sources.secrets
        else:
            continue
        data = store.get(ref.get("name", ""))
        if data is None:
            if ref.get("optional"):
                continue
            raise EnvError(f'{kind.lower()} "{ref.get("name", "")}" not found')
        for key, text in data.items():
            name = prefix + key
            if not _ENV_NAME.match(name):
                skipped.append(name)
                continue
            env[name] = text
    for var in container.get("env") or ():
        name = var.get("name", "")
        value_from = var.get("valueFrom")
        if not value_from:
            mapping = {**service_vars, **env}
            env[name] = expand(str(var.get("value") or ""), mapping)
            continue
        value: str | None
        if value_from.get("fieldRef"):
            value = _field_ref(pod, value_from["fieldRef"].get("fieldPath", ""), facts)
        elif value_from.get("resourceFieldRef"):
            value = resource_field_value(container, value_from["resourceFieldRef"],
                                         facts.node_allocatable)
        elif value_from.get("configMapKeyRef"):
            value = _key_ref("ConfigMap", sources.config_maps, value_from["configMapKeyRef"],
                             namespace)
        elif value_from.get("secretKeyRef"):
            value = _key_ref("Secret", sources.secrets, value_from["secretKeyRef"], namespace)
        else:
            continue
        if value is not None:
            env[name] = value
    for name, value in service_vars.items():
        env.setdefault(name, value)
    return list(env.items()), skipped
