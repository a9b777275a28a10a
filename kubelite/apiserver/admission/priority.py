"""Priority (plugin/pkg/admission/priority upstream): a pod's priority comes from its
PriorityClass, or from the cluster's globalDefault class when it names none, never
from the pod itself.

A new pod naming a class that does not exist, or carrying a priority of its own that
differs from its class's value, is refused with 403. Otherwise spec.priority,
spec.priorityClassName (for the default class) and spec.preemptionPolicy are set.
"""

from __future__ import annotations

from typing import Any, ClassVar

from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.admission.stores import Stores
from kubelite.apiserver.watchcache import Cache

Obj = dict[str, Any]
DEFAULT_PREEMPTION_POLICY = "PreemptLowerPriority"


class Priority:
    name: ClassVar[str] = "Priority"

    def __init__(self, *, stores: Stores, cache: Cache) -> None:
        self.stores = stores
        self.cache = cache

    def handles(self, attrs: Attributes) -> bool:
        return attrs.operation is Operation.CREATE and attrs.is_resource("", "pods") \
            and not attrs.subresource

    async def admit(self, attrs: Attributes) -> None:
        pod = attrs.obj
        spec = pod.setdefault("spec", {})
        prefix = self.stores.store_for("scheduling.k8s.io", "priorityclasses").prefix
        classes = [e.obj for e in self.cache.bucket(prefix).values()]
        name = spec.get("priorityClassName")
        if name:
            found = next((c for c in classes if c["metadata"]["name"] == name), None)
            if found is None:
                raise attrs.forbidden(f"no PriorityClass with name {name} was found")
        else:
            found = next((c for c in classes if c.get("globalDefault")), None)
            if found is not None:
                spec["priorityClassName"] = found["metadata"]["name"]
        value = int(found.get("value", 0)) if found is not None else 0
        given = spec.get("priority")
        if given is not None and given != value:
            raise attrs.forbidden(
                f"the integer value of priority ({given}) must not be provided in pod spec; "
                f"priority admission controller computed {value} from the given PriorityClass name")
        spec["priority"] = value
        spec["preemptionPolicy"] = (found or {}).get("preemptionPolicy") or \
            spec.get("preemptionPolicy") or DEFAULT_PREEMPTION_POLICY
