"""The ResourceQuota admission's rule (CheckRequest in upstream's
k8s.io/apiserver/pkg/admission/plugin/resourcequota/controller.go), pure: given a
namespace's quotas and one write, either refuse it with upstream's message or return
the quotas as they would be once it is charged.

- A quota applies when it limits something the object's evaluator measures and the
  object falls in all its scopes.
- An applying quota on cpu or memory requires every container to state them
  (`failed quota: q: must specify limits.cpu for: c; requests.cpu for: c`).
- An applying quota whose status lacks a used value for a limited name is not ready:
  `status unknown for quota: q, resources: ...` (the loop fills status soon after
  the quota is created).
- A create is charged its usage; an update the growth over the old object's usage,
  unless the quota did not cover the old object, which is charged in full. A charge
  that takes used past hard is refused:
  `exceeded quota: q, requested: requests.cpu=2, used: requests.cpu=1, limited: requests.cpu=2`.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

from kubelite.api.quota import resources as rl
from kubelite.api.quota.evaluators import Evaluator, matches

Obj = dict[str, Any]


class QuotaRefusal(Exception):
    """The write does not fit; the message is what follows `is forbidden: `."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _status(quota: Obj, field: str) -> rl.ResourceList:
    return rl.parse_list((quota.get("status") or {}).get(field))


def _name(quota: Obj) -> str:
    return str((quota.get("metadata") or {}).get("name") or "")


def check_request(quotas: list[Obj], *, evaluator: Evaluator, operation: str,
                  subresource: str, obj: Obj, old: Obj | None,
                  now: datetime.datetime) -> list[Obj]:
    """The quotas charged for this write (the same list when nothing changes), or
    QuotaRefusal."""
    interesting: list[int] = []
    for index, quota in enumerate(quotas):
        if not matches(evaluator, quota, obj):
            continue
        hard = _status(quota, "hard")
        restricted = evaluator.matching_resources(hard)
        why = evaluator.constraints(restricted, obj)
        if why:
            raise QuotaRefusal(f"failed quota: {_name(quota)}: {why}")
        used = _status(quota, "used")
        if any(name not in used for name in restricted):
            raise QuotaRefusal(f"status unknown for quota: {_name(quota)}, resources: "
                               + ",".join(sorted(restricted)))
        interesting.append(index)
    if not interesting:
        return quotas
    usage = evaluator.usage(obj, now)
    negative = rl.negative_names(usage)
    if negative:
        raise QuotaRefusal("quota usage is negative for resource(s): " + ",".join(negative))
    deltas = {index: usage for index in interesting}
    if operation == "UPDATE":
        if old is None:
            raise QuotaRefusal("unable to get previous usage since prior version of "
                               "object was not found")
        if (old.get("metadata") or {}).get("resourceVersion"):
            growth = rl.subtract_non_negative(usage, evaluator.usage(old, now))
            for index in interesting:
                if matches(evaluator, quotas[index], old):
                    deltas[index] = growth
    deltas = {index: rl.remove_zeros(delta) for index, delta in deltas.items()}
    deltas = {index: delta for index, delta in deltas.items() if delta}
    if not deltas:
        return quotas
    charged = list(quotas)
    for index, delta in deltas.items():
        quota = quotas[index]
        hard, used = _status(quota, "hard"), _status(quota, "used")
        requested = rl.mask(delta, hard)
        new_used = rl.add(used, requested)
        if subresource != "status":
            fits, exceeded = rl.less_than_or_equal(rl.mask(new_used, requested), hard)
            if not fits:
                raise QuotaRefusal(
                    f"exceeded quota: {_name(quota)}, "
                    f"requested: {rl.pretty(rl.mask(requested, exceeded))}, "
                    f"used: {rl.pretty(rl.mask(used, exceeded))}, "
                    f"limited: {rl.pretty(rl.mask(hard, exceeded))}")
        if not rl.equals(new_used, used):
            updated = copy.deepcopy(quota)
            updated.setdefault("status", {})["used"] = rl.to_json(new_used)
            charged[index] = updated
    return charged
