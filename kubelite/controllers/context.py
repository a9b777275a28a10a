"""What every control loop is given and what it must offer the manager.

A loop is built from a `LoopContext` while the manager leads: it asks the shared
informers for the resources it reads, adds its event handlers (which only enqueue
keys), and keeps a `kubelite.client.Controller` for its sync. The manager then starts
the informers, waits for them to sync, and awaits `run()` of every loop; cancelling
`run()` stops the loop. A loop holds no state that must outlive a term of leadership:
the next term builds it afresh from fresh informers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from kubelite.client.events import EventRecorder
from kubelite.client.rest import Client
from kubelite.controllers.informers import SharedInformers
from kubelite.controllers.settings import LoopSettings


class Loop(Protocol):
    name: str

    async def run(self) -> None:
        """Sync keys until cancelled; the informers have synced already."""


@dataclass(slots=True)
class LoopContext:
    client: Client
    informers: SharedInformers
    host: str = ""  # source.host of Events (upstream's controllers leave it empty)
    recorders: list[EventRecorder] = field(default_factory=list)
    settings: LoopSettings = field(default_factory=LoopSettings)  # the flags' values

    def recorder(self, component: str) -> EventRecorder:
        """An EventRecorder writing as `component` ("replicaset-controller"); the
        manager waits for its writes when the term ends."""
        recorder = EventRecorder(self.client, component, host=self.host)
        self.recorders.append(recorder)
        return recorder
