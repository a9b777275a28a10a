"""Noticing what changed in the runtime (pkg/kubelet/pleg/generic.go): every
`relist_interval` the runtime's containers and sandboxes are listed and compared with
the last listing; the uid of every pod with a container or sandbox that appeared,
changed state or vanished is handed to `changed`, which wakes that pod's worker. A
container's exit is thus noticed within a second, without polling each pod.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from kubelite.kubelet import cri
from kubelite.kubelet.sandbox_config import POD_UID_LABEL

log = logging.getLogger(__name__)


class Relister:
    def __init__(self, runtime: cri.RuntimeService, changed: Callable[[str], None], *,
                 interval: float) -> None:
        self.runtime = runtime
        self.changed = changed
        self.interval = interval
        self._last: dict[str, tuple[str, str]] = {}  # runtime id -> (pod uid, state)

    async def relist(self) -> None:
        now: dict[str, tuple[str, str]] = {}
        for sandbox in await self.runtime.list_pod_sandboxes():
            now[sandbox.id] = (sandbox.labels.get(POD_UID_LABEL, ""), sandbox.state.value)
        for container in await self.runtime.list_containers():
            now[container.id] = (container.labels.get(POD_UID_LABEL, ""), container.state.value)
        touched = {uid for key, (uid, state) in now.items() if self._last.get(key) != (uid, state)}
        touched |= {uid for key, (uid, _) in self._last.items() if key not in now}
        self._last = now
        for uid in touched:
            if uid:
                self.changed(uid)

    async def run(self) -> None:
        while True:
            try:
                await self.relist()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("listing the runtime's containers failed")
            await asyncio.sleep(self.interval)
