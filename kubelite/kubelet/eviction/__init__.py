"""The kubelet's eviction manager (upstream's pkg/kubelet/eviction): node pressure
conditions from eviction thresholds, node-level reclaim, pod eviction ranked as
upstream, admission under pressure and local storage isolation.

```text
  --eviction-* flags ── thresholds.py ──┐
  StatsSource (host.py) ── signals.py ──┼──> manager.py EvictionManager.synchronize()
                                        │       ├── conditions -> node_status (Memory/Disk/PIDPressure)
                                        │       ├── local_storage.py (emptyDir sizeLimit, ephemeral-storage)
                                        │       ├── reclaim: dead containers, unused images
                                        │       └── ranking.py -> Terminator.evict(pod, grace, message)
  messages.py: the words of evictions and of admission refusals
```
"""

from kubelite.kubelet.eviction.manager import EvictionConfig, EvictionManager, Terminator
from kubelite.kubelet.eviction.thresholds import (
    DEFAULT_HARD, Threshold, ThresholdError, parse_thresholds)

__all__ = ["DEFAULT_HARD", "EvictionConfig", "EvictionManager", "Terminator", "Threshold",
           "ThresholdError", "parse_thresholds"]
