"""The pod network's cost per sandbox: netns, setup, teardown (root only).

    python benchmarks/bench_pod_network.py [--pods 50]

Makes a "node" network namespace with a BridgeNetwork in it (podCIDR 10.42.1.0/24,
IPAM in a temporary data dir), then for each of `--pods` sandboxes one after the
other: `create_netns` and `setup`; then every `setup` again at once (the idempotent
path: nothing is rebuilt); then each `teardown`. Prints p50 and p99 per step in ms.
Everything it makes is in namespaces named `klbench-<random>-*`, removed at the end;
the host's interfaces and routes are never touched.

A benchmark, not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kubelite.kubelet import cri  # noqa: E402
from kubelite.kubelet.network.bridge import BridgeNetwork  # noqa: E402
from kubelite.kubelet.network.netns import create_netns, remove_netns  # noqa: E402

CONFIG = cri.PodSandboxConfig(metadata=cri.PodSandboxMetadata("bench", "default", "uid"))


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"p50 {statistics.median(ordered) * 1e3:6.1f} ms  p99 {p99 * 1e3:6.1f} ms"


async def main(pods: int) -> None:
    prefix = f"klbench-{secrets.token_hex(3)}"
    made: list[str] = []
    try:
        node = await create_netns(f"{prefix}-node")
        made.append(node)
        network = BridgeNetwork(data_dir=tempfile.mkdtemp(prefix="klbench-"), node_netns=node)
        await network.set_pod_cidr("10.42.1.0/24")
        creating, setting_up, tearing_down = [], [], []
        for i in range(pods):
            started = time.perf_counter()
            path = await create_netns(f"{prefix}-p{i}")
            made.append(path)
            created = time.perf_counter()
            await network.setup(f"sandbox-{i}", path, CONFIG)
            creating.append(created - started)
            setting_up.append(time.perf_counter() - created)
        started = time.perf_counter()
        await asyncio.gather(*(network.setup(f"sandbox-{i}", made[i + 1], CONFIG)
                               for i in range(pods)))
        again = time.perf_counter() - started
        for i in range(pods):
            started = time.perf_counter()
            await network.teardown(f"sandbox-{i}", made[i + 1])
            tearing_down.append(time.perf_counter() - started)
        print(f"{pods} sandboxes, one after the other")
        print(f"  create_netns  {_ms(creating)}")
        print(f"  setup         {_ms(setting_up)}")
        print(f"  teardown      {_ms(tearing_down)}")
        print(f"  setup again, all at once: {again * 1e3:.0f} ms "
              f"({again / pods * 1e3:.1f} ms each)")
    finally:
        for path in reversed(made):
            await remove_netns(path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=50)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("network namespaces need root")
    asyncio.run(main(args.pods))
