"""SchedulingGates: a pod with spec.schedulingGates waits outside the active queue."""

from __future__ import annotations

from typing import ClassVar

from kubelite.scheduler.framework import Code, Obj, Status


class SchedulingGates:
    name: ClassVar[str] = "SchedulingGates"

    def pre_enqueue(self, pod: Obj) -> Status:
        gates = [g.get("name", "") for g in (pod.get("spec") or {}).get("schedulingGates") or ()]
        if not gates:
            return Status.success()
        # upstream prints the Go slice: "[a b]"
        return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
                      (f"waiting for scheduling gates: [{' '.join(gates)}]",), self.name)
