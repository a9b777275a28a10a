"""PrioritySort: the queue's order. Higher spec.priority first; equal priorities in the
order the pods entered the queue, as upstream."""

from __future__ import annotations

from typing import ClassVar

from kubelite.scheduler.framework import Obj


def priority(pod: Obj) -> int:
    value = (pod.get("spec") or {}).get("priority")
    return value if isinstance(value, int) else 0


class PrioritySort:
    name: ClassVar[str] = "PrioritySort"

    def less(self, pod1: Obj, queued1: float, pod2: Obj, queued2: float) -> bool:
        p1, p2 = priority(pod1), priority(pod2)
        return p1 > p2 or (p1 == p2 and queued1 < queued2)
