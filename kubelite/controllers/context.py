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
from pathlib import Path
from typing import Any, Protocol

from kubelite.client.events import EventRecorder
from kubelite.client.rest import Client
from kubelite.controllers.informers import SharedInformers
from kubelite.controllers.node_settings import NodeSettings


class Loop(Protocol):
    name: str

    async def run(self) -> None:
        """Sync keys until cancelled; the informers have synced already."""


@dataclass(slots=True)
class LoopContext:
    client: Client
    informers: SharedInformers
    host: str = ""  # source.host of Events (upstream's controllers leave it empty)
    # upstream's --terminated-pod-gc-threshold: finished pods kept before pod GC deletes
    terminated_pod_gc_threshold: int = 12500
    recorders: list[EventRecorder] = field(default_factory=list)
    storage_dir: Path | None = None  # where local-path volumes live (<data dir>/storage)
    node_settings: NodeSettings = field(default_factory=NodeSettings)  # the node loops'
    # loop settings by upstream's flag name ("horizontal-pod-autoscaler-sync-period": 15.0);
    # a loop reads its own and falls back to upstream's default
    options: dict[str, Any] = field(default_factory=dict)

    def recorder(self, component: str) -> EventRecorder:
        """An EventRecorder writing as `component` ("replicaset-controller"); the
        manager waits for its writes when the term ends."""
        recorder = EventRecorder(self.client, component, host=self.host)
        self.recorders.append(recorder)
        return recorder
