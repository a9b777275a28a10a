"""The Deployment loop's pure rules over plain dicts (upstream's
pkg/controller/deployment/util/deployment_util.go and controller.ComputeHash).

- A ReplicaSet's name is `<deployment>-<pod-template-hash>`: FNV-32a over the pod
  template (here its canonical JSON: sorted keys, no spaces; upstream hashes a Go dump
  of the struct, which only Go can reproduce), then the collision count as 8 bytes
  (little-endian uint32, zero padded), the decimal sum then mapped through
  SafeEncodeString's 27 consonants and digits, so names look like upstream's (`web-7d9bc8f5c4`).
- maxSurge and maxUnavailable resolve against spec.replicas as upstream's
  ResolveFenceposts: surge rounds up, unavailable down, and both zero means 1 unavailable.
- Revisions live in `deployment.kubernetes.io/revision`; desired-replicas and
  max-replicas annotations record the deployment size each ReplicaSet was last scaled
  for, which proportional scaling reads to share out a resize.
- The new ReplicaSet is the oldest whose template equals the deployment's, ignoring the
  pod-template-hash label; every other one is old.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable
from typing import Any

from kubelite.controllers.pods import Obj, meta

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
ROLLBACK_TO = "deprecated.deployment.rollback.to"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
HASH_LABEL = "pod-template-hash"  # apps.DefaultDeploymentUniqueLabelKey
MAX_REV_HISTORY_CHARS = 2000  # upstream's maxRevHistoryLengthInChars
NO_DEADLINE = 2**31 - 1  # progressDeadlineSeconds of math.MaxInt32 means none

_SKIP_COPY = frozenset({LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS,
                        MAX_REPLICAS, ROLLBACK_TO})
_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"  # rand.SafeEncodeString's alphabet
_FNV_OFFSET, _FNV_PRIME = 0x811C9DC5, 0x01000193


# --- the pod-template-hash -----------------------------------------------------------

def fnv32a(data: bytes, state: int = _FNV_OFFSET) -> int:
    for byte in data:
        state = ((state ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return state


def safe_encode(text: str) -> str:
    """rand.SafeEncodeString: every byte to a letter or digit no word can be made of."""
    return "".join(_ALPHANUMS[b % len(_ALPHANUMS)] for b in text.encode())


def compute_hash(template: Obj, collision_count: int | None = None) -> str:
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    state = fnv32a(data)
    if collision_count is not None:
        state = fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little") + bytes(4), state)
    return safe_encode(str(state))


def template_without_hash(template: Obj) -> Obj:
    out = copy.deepcopy(template or {})
    template_meta = out.get("metadata") or {}
    template_labels = dict(template_meta.get("labels") or {})
    template_labels.pop(HASH_LABEL, None)
    if template_labels:
        template_meta["labels"] = template_labels
    else:
        template_meta.pop("labels", None)
    if template_meta:
        out["metadata"] = template_meta
    else:
        out.pop("metadata", None)
    return out


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    return template_without_hash(a) == template_without_hash(b)


# --- sizes and fenceposts ------------------------------------------------------------

def replicas(obj: Obj | None) -> int:
    if obj is None:
        return 0
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def status_count(obj: Obj | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: an int as is, "N%" of total rounded."""
    if isinstance(value, bool):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        scaled = int(value[:-1]) * total / 100
        return math.ceil(scaled) if round_up else math.floor(scaled)
    raise ValueError(f'invalid value for IntOrString: invalid value "{value}"')


def is_rolling(deployment: Obj) -> bool:
    return ((deployment.get("spec") or {}).get("strategy") or {}).get("type") == "RollingUpdate"


def resolve_fenceposts(max_surge: Any, max_unavailable: Any, desired: int) -> tuple[int, int]:
    surge = scaled_value(0 if max_surge is None else max_surge, desired, True)
    unavailable = scaled_value(0 if max_unavailable is None else max_unavailable, desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1  # a rollout must be able to move
    return surge, unavailable


def _rolling(deployment: Obj) -> Obj:
    return ((deployment.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}


def max_surge(deployment: Obj) -> int:
    if not is_rolling(deployment):
        return 0
    rolling = _rolling(deployment)
    return resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"),
                              replicas(deployment))[0]


def max_unavailable(deployment: Obj) -> int:
    if not is_rolling(deployment) or replicas(deployment) == 0:
        return 0
    rolling = _rolling(deployment)
    unavailable = resolve_fenceposts(rolling.get("maxSurge"), rolling.get("maxUnavailable"),
                                     replicas(deployment))[1]
    return min(unavailable, replicas(deployment))


def new_rs_new_replicas(deployment: Obj, all_rss: Iterable[Obj], new_rs: Obj) -> int:
    """How big the new ReplicaSet may be now (NewRSNewReplicas)."""
    desired = replicas(deployment)
    if is_rolling(deployment):
        surge = scaled_value(_rolling(deployment).get("maxSurge"), desired, True)
        current = sum(replicas(rs) for rs in all_rss)
        most = desired + surge
        if current >= most:
            return replicas(new_rs)
        return replicas(new_rs) + min(most - current, desired - replicas(new_rs))
    return desired


# --- revisions and annotations -------------------------------------------------------

def annotations_of(obj: Obj) -> dict[str, str]:
    return dict(meta(obj).get("annotations") or {})


def revision(obj: Obj) -> int:
    try:
        return int(annotations_of(obj).get(REVISION) or 0)
    except ValueError:
        return 0


def max_revision(rss: Iterable[Obj]) -> int:
    return max((revision(rs) for rs in rss), default=0)


def copy_deployment_annotations(deployment: Obj, rs: Obj) -> bool:
    """Copy the deployment's annotations but the loop's own and kubectl's
    last-applied onto the ReplicaSet; True when something changed."""
    rs_annotations = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for key, value in annotations_of(deployment).items():
        if key in _SKIP_COPY or rs_annotations.get(key) == value:
            continue
        rs_annotations[key] = value
        changed = True
    return changed


def set_replicas_annotations(rs: Obj, desired: int, most: int) -> bool:
    rs_annotations = rs.setdefault("metadata", {}).setdefault("annotations", {})
    changed = False
    for key, value in ((DESIRED_REPLICAS, str(desired)), (MAX_REPLICAS, str(most))):
        if rs_annotations.get(key) != value:
            rs_annotations[key] = value
            changed = True
    return changed


def replicas_annotations_need_update(rs: Obj, desired: int, most: int) -> bool:
    rs_annotations = annotations_of(rs)
    return (rs_annotations.get(DESIRED_REPLICAS) != str(desired)
            or rs_annotations.get(MAX_REPLICAS) != str(most))


def set_new_rs_annotations(deployment: Obj, rs: Obj, new_revision: int, exists: bool,
                           history_limit: int = MAX_REV_HISTORY_CHARS) -> bool:
    """SetNewReplicaSetAnnotations: copy the deployment's annotations, raise the
    revision (keeping the ones it had in revision-history, within `history_limit`
    characters, as a rollback to it does), and size annotations on a new one."""
    changed = copy_deployment_annotations(deployment, rs)
    rs_annotations = rs["metadata"]["annotations"]
    old = rs_annotations.get(REVISION)
    try:
        old_int = int(old or 0)
    except ValueError:
        return False
    if old_int < new_revision:
        rs_annotations[REVISION] = str(new_revision)
        changed = True
        if old is not None:
            history = rs_annotations.get(REVISION_HISTORY, "")
            if not history:
                rs_annotations[REVISION_HISTORY] = old
            else:
                olds = history.split(",")
                total, start = len(history) + len(old) + 1, 0
                while total > history_limit and start < len(olds):
                    total -= len(olds[start]) + 1
                    start += 1
                if total <= history_limit:
                    rs_annotations[REVISION_HISTORY] = ",".join([*olds[start:], old])
    if not exists and set_replicas_annotations(
            rs, replicas(deployment), replicas(deployment) + max_surge(deployment)):
        changed = True
    return changed


def desired_replicas_annotation(rs: Obj) -> int | None:
    try:
        return int(annotations_of(rs)[DESIRED_REPLICAS])
    except (KeyError, ValueError):
        return None


# --- ordering and finding ------------------------------------------------------------

def by_creation(rs: Obj) -> tuple[str, str]:
    """ReplicaSetsByCreationTimestamp (RFC 3339 in UTC sorts as text), then name."""
    return (str(meta(rs).get("creationTimestamp") or ""), str(meta(rs).get("name") or ""))


def active(rss: Iterable[Obj | None]) -> list[Obj]:
    """FilterActiveReplicaSets: those wanting pods."""
    return [rs for rs in rss if rs is not None and replicas(rs) > 0]


def find_new_rs(deployment: Obj, rss: Iterable[Obj]) -> Obj | None:
    template = (deployment.get("spec") or {}).get("template") or {}
    for rs in sorted(rss, key=by_creation):
        if equal_ignore_hash((rs.get("spec") or {}).get("template") or {}, template):
            return rs  # the oldest, should several be equal
    return None


def find_old_rss(deployment: Obj, rss: list[Obj]) -> list[Obj]:
    new = find_new_rs(deployment, rss)
    new_uid = meta(new).get("uid") if new is not None else None
    return [rs for rs in rss if new is None or meta(rs).get("uid") != new_uid]


def find_active_or_latest(new_rs: Obj | None, old_rss: list[Obj]) -> Obj | None:
    """The one ReplicaSet with replicas (or the newest if none has any); None when
    several have replicas."""
    if new_rs is None and not old_rss:
        return None
    newest_first = sorted(old_rss, key=by_creation, reverse=True)
    with_replicas = active([*newest_first, new_rs])
    if not with_replicas:
        return new_rs if new_rs is not None else newest_first[0]
    return with_replicas[0] if len(with_replicas) == 1 else None


def is_saturated(deployment: Obj, rs: Obj | None) -> bool:
    if rs is None:
        return False
    desired = replicas(deployment)
    return (replicas(rs) == desired and desired_replicas_annotation(rs) == desired
            and status_count(rs, "availableReplicas") == desired)
