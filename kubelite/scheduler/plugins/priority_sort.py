"""PrioritySort: the queue's order. Higher spec.priority first; equal priorities in the
order the pods entered the queue, as upstream. The scheduling queue orders its
QueuedPodInfos with `queued_pod.priority_less`, the same rule on the priority it keeps
beside each pod."""

from __future__ import annotations

from typing import ClassVar

from kubelite.scheduler.framework import Obj
from kubelite.scheduler.queued_pod import pod_priority


class PrioritySort:
    name: ClassVar[str] = "PrioritySort"

    def less(self, pod1: Obj, queued1: float, pod2: Obj, queued2: float) -> bool:
        p1, p2 = pod_priority(pod1), pod_priority(pod2)
        return p1 > p2 or (p1 == p2 and queued1 < queued2)
