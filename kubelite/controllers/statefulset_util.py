"""Pure rules of the StatefulSet loop (upstream's pkg/controller/statefulset
stateful_set_utils.go and pkg/controller/history).

- Identity: pod `<set>-<ordinal>` (ordinals from spec.ordinals.start), hostname the pod
  name, subdomain spec.serviceName, labels statefulset.kubernetes.io/pod-name and
  apps.kubernetes.io/pod-index; a name that does not parse has ordinal -1.
- Storage: a claim `<template>-<set>-<ordinal>` per volumeClaimTemplate, mounted as the
  pod volume named after the template (replacing any pod volume of that name).
- Revisions: a ControllerRevision's data is the patch `{"spec": {"template": T with
  "$patch": "replace"}}`; its name is `<set>-<hash>`, the hash FNV-32 (not 32a, as
  upstream's history.HashControllerRevision) over the data's canonical JSON and the
  collision count in decimal, spelled by SafeEncodeString. Pods carry the revision name
  in the `controller-revision-hash` label.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from kubelite.controllers.deployment_util import safe_encode
from kubelite.controllers.pod_control import controller_ref
from kubelite.controllers.pods import Obj, meta

POD_NAME_LABEL = "statefulset.kubernetes.io/pod-name"
POD_INDEX_LABEL = "apps.kubernetes.io/pod-index"
REVISION_LABEL = "controller-revision-hash"  # apps.ControllerRevisionHashLabelKey
_ORDINAL = re.compile(r"^(.*)-([0-9]+)$")
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193
MAX_REVISION_PREFIX = 223  # 253 minus room for "-" and the hash


def parent_and_ordinal(pod_name: str) -> tuple[str, int]:
    """("web", 2) for "web-2"; ("", -1) when the name has no ordinal suffix."""
    match = _ORDINAL.match(pod_name)
    if match is None:
        return "", -1
    return match.group(1), int(match.group(2))


def ordinal_of(pod: Obj) -> int:
    return parent_and_ordinal(str(meta(pod).get("name") or ""))[1]


def is_member_of(set_: Obj, pod: Obj) -> bool:
    return parent_and_ordinal(str(meta(pod).get("name") or ""))[0] == str(meta(set_)["name"])


def start_ordinal(set_: Obj) -> int:
    ordinals = (set_.get("spec") or {}).get("ordinals") or {}
    return int(ordinals.get("start") or 0)


def pod_name(set_: Obj, ordinal: int) -> str:
    return f"{meta(set_)['name']}-{ordinal}"


def claim_name(template: Obj, set_: Obj, ordinal: int) -> str:
    return f"{meta(template).get('name', '')}-{meta(set_)['name']}-{ordinal}"


def fnv32(data: bytes, state: int = _FNV_OFFSET) -> int:
    for byte in data:
        state = ((state * _FNV_PRIME) & 0xFFFFFFFF) ^ byte
    return state


def revision_data(set_: Obj) -> Obj:
    template = copy.deepcopy((set_.get("spec") or {}).get("template") or {})
    template["$patch"] = "replace"
    return {"spec": {"template": template}}


def template_of_revision(revision: Obj) -> Obj:
    template = copy.deepcopy(((revision.get("data") or {}).get("spec") or {})
                             .get("template") or {})
    template.pop("$patch", None)
    return template


def revision_hash(data: Obj, collision_count: int | None) -> str:
    state = fnv32(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())
    if collision_count is not None:
        state = fnv32(str(collision_count).encode(), state)
    return safe_encode(str(state))


def revision_name(set_name: str, hash_: str) -> str:
    return f"{set_name[:MAX_REVISION_PREFIX]}-{hash_}"


def new_revision(set_: Obj, number: int, collision_count: int | None) -> Obj:
    data = revision_data(set_)
    template_labels = (((set_.get("spec") or {}).get("template") or {})
                       .get("metadata") or {}).get("labels") or {}
    name = revision_name(meta(set_)["name"], revision_hash(data, collision_count))
    return {"apiVersion": "apps/v1", "kind": "ControllerRevision",
            "metadata": {"name": name, "namespace": meta(set_).get("namespace", ""),
                         "labels": {**template_labels, REVISION_LABEL: name},
                         "ownerReferences": [controller_ref(set_)]},
            "data": data, "revision": number}


def new_pod(set_: Obj, revision: Obj, ordinal: int) -> Obj:
    """The pod of `ordinal` at `revision` (newStatefulSetPod + its identity and storage)."""
    template = template_of_revision(revision)
    template_meta = template.get("metadata") or {}
    name = pod_name(set_, ordinal)
    spec: Obj = copy.deepcopy(template.get("spec") or {})
    spec["hostname"] = name
    service = (set_.get("spec") or {}).get("serviceName")
    if service:
        spec["subdomain"] = service
    volumes = {v.get("name"): v for v in spec.get("volumes") or () if isinstance(v, dict)}
    for claim in (set_.get("spec") or {}).get("volumeClaimTemplates") or ():
        volumes[meta(claim).get("name")] = {
            "name": meta(claim).get("name"),
            "persistentVolumeClaim": {"claimName": claim_name(claim, set_, ordinal)}}
    if volumes:
        spec["volumes"] = list(volumes.values())
    pod_labels = {**(template_meta.get("labels") or {}), POD_NAME_LABEL: name,
                  POD_INDEX_LABEL: str(ordinal), REVISION_LABEL: meta(revision)["name"]}
    pod_meta: Obj = {"name": name, "namespace": meta(set_).get("namespace", ""),
                     "labels": pod_labels, "ownerReferences": [controller_ref(set_)]}
    if template_meta.get("annotations"):
        pod_meta["annotations"] = copy.deepcopy(template_meta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}


def new_claim(set_: Obj, template: Obj, ordinal: int) -> Obj:
    """A claim from a volumeClaimTemplate, labelled with the set's selector labels; owned
    by the set (not as controller) when whenDeleted is Delete."""
    claim: Obj = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                  "metadata": {"name": claim_name(template, set_, ordinal),
                               "namespace": meta(set_).get("namespace", ""),
                               "labels": {**(meta(template).get("labels") or {}),
                                          **selector_labels(set_)}},
                  "spec": copy.deepcopy(template.get("spec") or {})}
    if retention(set_, "whenDeleted") == "Delete":
        claim["metadata"]["ownerReferences"] = [non_controller_ref(set_)]
    return claim


def non_controller_ref(owner: Obj) -> Obj:
    ref = controller_ref(owner)
    ref["controller"] = False
    return ref


def selector_labels(set_: Obj) -> dict[str, str]:
    selector = (set_.get("spec") or {}).get("selector") or {}
    return dict(selector.get("matchLabels") or {})


def retention(set_: Obj, when: str) -> str:
    policy = (set_.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
    return str(policy.get(when) or "Retain")


def replicas(set_: Obj) -> int:
    value = (set_.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def rolling_update(set_: Obj) -> Obj | None:
    strategy = (set_.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return None
    out: Obj = strategy.get("rollingUpdate") or {}
    return out


def partition(set_: Obj) -> int:
    return int((rolling_update(set_) or {}).get("partition") or 0)


def max_unavailable(set_: Obj) -> int:
    """maxUnavailable (an int or a percent of replicas, rounded down), at least 1."""
    value: Any = (rolling_update(set_) or {}).get("maxUnavailable", 1)
    if isinstance(value, str) and value.endswith("%"):
        value = int(value[:-1]) * replicas(set_) // 100
    return max(int(value or 0), 1)


def parallel(set_: Obj) -> bool:
    return (set_.get("spec") or {}).get("podManagementPolicy") == "Parallel"


def revision_of(pod: Obj) -> str:
    return str((meta(pod).get("labels") or {}).get(REVISION_LABEL) or "")


def at_current_revision(set_: Obj, index: int, current_replicas: int) -> bool:
    """Whether a missing replica is made at the current revision (upstream's
    newVersionedStatefulSetPod): below the partition when rollingUpdate is given,
    below status.currentReplicas when it is not; OnDelete makes the update revision."""
    strategy = (set_.get("spec") or {}).get("updateStrategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return False
    if strategy.get("rollingUpdate") is None:
        return index < current_replicas
    return index < partition(set_)
