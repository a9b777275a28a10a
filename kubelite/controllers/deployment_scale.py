"""Proportional scaling: sharing a resize of a Deployment out among its ReplicaSets
while a rollout is under way (upstream's DeploymentController.scale, GetProportion and
getReplicaSetFraction).

A Deployment of 10 (maxSurge 3) in mid-rollout has an old ReplicaSet of 8 and a new one
of 5. Scaled to 15, it may have 18 pods: the 5 more go to the ReplicaSets in proportion
to their size, each ReplicaSet's share being its size times the new maximum over the
maximum it was last scaled for (its max-replicas annotation), rounded half away from
zero; the shares never add up to more than the resize, and what rounding leaves over
goes to the largest ReplicaSet. Scaling up, ties in size favour the newer ReplicaSet;
scaling down, the older one.
"""

from __future__ import annotations

from kubelite.controllers.deployment_util import (
    MAX_REPLICAS, active, annotations_of, by_creation, find_active_or_latest, is_rolling,
    is_saturated, max_surge, replicas, status_count)
from kubelite.controllers.pods import Obj, meta


def round_half_away(value: float) -> int:
    """integer.RoundToInt32 (math.Round): halves go away from zero."""
    whole = int(abs(value) + 0.5)
    return whole if value >= 0 else -whole


def _max_replicas_annotation(rs: Obj) -> int | None:
    try:
        return int(annotations_of(rs)[MAX_REPLICAS])
    except (KeyError, ValueError):
        return None


def replica_set_fraction(rs: Obj, deployment: Obj) -> int:
    if replicas(deployment) == 0:
        return -replicas(rs)  # scaling to zero: the whole ReplicaSet goes
    most = replicas(deployment) + max_surge(deployment)
    before = _max_replicas_annotation(rs)
    if not before:
        # someone else resized the deployment first: its last known size stands in
        before = status_count(deployment, "replicas")
        if before == 0:
            return 0
    return round_half_away(replicas(rs) * most / before) - replicas(rs)


def proportion(rs: Obj, deployment: Obj, to_add: int, added: int) -> int:
    if replicas(rs) == 0 or to_add == 0 or to_add == added:
        return 0
    fraction = replica_set_fraction(rs, deployment)
    allowed = to_add - added
    return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)


def _newer_first_key(rs: Obj) -> tuple[int, tuple[str, str]]:
    return (replicas(rs), by_creation(rs))


def proportional_sizes(deployment: Obj, active_rss: list[Obj]) -> tuple[list[tuple[Obj, int]], str]:
    """Each active ReplicaSet with its new size, largest first, and "up", "down" or ""."""
    total = sum(replicas(rs) for rs in active_rss)
    allowed = replicas(deployment) + max_surge(deployment) if replicas(deployment) > 0 else 0
    to_add = allowed - total
    operation = ""
    ordered = list(active_rss)
    if to_add > 0:
        ordered.sort(key=_newer_first_key, reverse=True)  # larger, then newer
        operation = "up"
    elif to_add < 0:
        ordered.sort(key=lambda rs: by_creation(rs))  # older first among equals...
        ordered.sort(key=replicas, reverse=True)  # ...and larger first (stable sort)
        operation = "down"
    sizes: dict[str, int] = {}
    added = 0
    for rs in ordered:
        share = proportion(rs, deployment, to_add, added) if to_add else 0
        sizes[meta(rs)["name"]] = replicas(rs) + share
        added += share
    if ordered and to_add:
        first = meta(ordered[0])["name"]
        sizes[first] = max(0, sizes[first] + to_add - added)  # leftovers to the largest
    return [(rs, sizes[meta(rs)["name"]]) for rs in ordered], operation


def scale_plan(deployment: Obj, new_rs: Obj | None,
               old_rss: list[Obj]) -> tuple[list[tuple[Obj, int]], str | None]:
    """What a resize does (DeploymentController.scale): each ReplicaSet to write with
    its new size, and the scaling direction for proportional writes (None: the writes
    are plain resizes, made only where the size differs).

    - one ReplicaSet with replicas (or none: the newest): it takes spec.replicas;
    - a saturated new ReplicaSet: the old ones go to zero;
    - otherwise, rolling: every active ReplicaSet gets its proportional share."""
    only = find_active_or_latest(new_rs, old_rss)
    if only is not None:
        return [(only, replicas(deployment))], None
    if is_saturated(deployment, new_rs):
        return [(rs, 0) for rs in active(old_rss)], None
    if is_rolling(deployment):
        return proportional_sizes(deployment, active([*old_rss, new_rs]))
    return [], None
