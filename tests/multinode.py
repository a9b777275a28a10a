"""Several nodes on one machine for end-to-end tests: each `kubelite agent` in a network
namespace of its own, all on one test-made bridge in the host's namespace, as machines
on one LAN are.

```text
 host namespace
   <slot>h (bridge) 10.160.x.1/27      ── the API server binds this address
   blackhole <cluster CIDR>, <service CIDR>  (nothing for a pod leaves the machine)
     ├── <slot>v1 ⇄ eth0 10.160.x.2/27 in netns <slot>-n1: kubelite agent (node n1)
     └── <slot>v2 ⇄ eth0 10.160.x.3/27 in netns <slot>-n2: kubelite agent (node n2)
```

Each agent is `nsenter --net=/run/netns/<slot>-nI kubelite agent --server
https://10.160.x.1:PORT --token T --node-ip 10.160.x.(I+1)`: it joins with a bootstrap
token, makes its pod bridge and routes inside its namespace, and routes the other
nodes' podCIDRs via their InternalIPs (host-gw). `nsenter --net` and not `ip netns
exec`, which remounts /sys and so hides the cgroup filesystem runc needs.

Every name comes from the cluster's NetworkSlot (tests/cluster.py), so two test runs
never share one. `close()` removes everything, whatever state a failing test left:
the agents by pid (SIGTERM, so each stops its pods; SIGKILL after a while), any runc
container and mount left under their data dirs, the namespaces, the bridge and the
routes.
"""

from __future__ import annotations

import ipaddress
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.cluster import ROOT, Cluster, NetworkSlot, stop_process

AGENT_STOP_TIMEOUT = 30.0


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


@dataclass
class Agent:
    name: str
    netns: str
    address: str
    data_dir: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int | None:
        """Signals the agent by pid and waits for it (SIGKILL if it does not go)."""
        if self.proc is None:
            return None
        code = stop_process(self.proc, sig, timeout=AGENT_STOP_TIMEOUT)
        self.proc = None
        return code


class HostGwNodes:
    """The host side of a multi-node test: the bridge the nodes share, the address
    the server binds, and agents in namespaces of their own (module docstring)."""

    def __init__(self, slot: NetworkSlot, work_dir: Path) -> None:
        self.slot = slot
        self.work_dir = work_dir
        subnet = slot.link_subnet
        hosts = list(subnet.hosts())
        self.prefix_len = subnet.prefixlen
        self.host_address = str(hosts[0])
        self._free = [str(a) for a in hosts[1:]]
        self.bridge = f"{slot.prefix}h"
        self.agents: list[Agent] = []
        self._blackholes: list[str] = []
        self._made_bridge = False

    def make_host_side(self) -> None:
        """The bridge with the server's address, and the cluster's ranges blackholed in
        the host's namespace (the nodes blackhole them in theirs)."""
        ip("link", "add", self.bridge, "type", "bridge")
        self._made_bridge = True
        ip("addr", "add", f"{self.host_address}/{self.prefix_len}", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for cidr in (self.slot.cluster_cidr, self.slot.service_cidr):
            ip("route", "add", "blackhole", cidr)
            self._blackholes.append(cidr)

    def start_agent(self, cluster: Cluster, name: str, token: str,
                    *extra_args: str) -> Agent:
        """A namespace wired to the bridge, and `kubelite agent` in it for node `name`."""
        index = len(self.agents) + 1
        agent = Agent(name=name, netns=f"{self.slot.prefix}-n{index}",
                      address=self._free.pop(0), data_dir=self.work_dir / name / "data",
                      log_path=self.work_dir / name / "agent.log")
        self.agents.append(agent)
        ip("netns", "add", agent.netns)
        host_end = f"{self.slot.prefix}v{index}"
        ip("link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns",
           agent.netns)
        ip("link", "set", host_end, "master", self.bridge, "up")
        ip("-n", agent.netns, "addr", "add", f"{agent.address}/{self.prefix_len}", "dev", "eth0")
        ip("-n", agent.netns, "link", "set", "eth0", "up")
        ip("-n", agent.netns, "link", "set", "lo", "up")
        agent.data_dir.mkdir(parents=True, exist_ok=True)
        self.launch(agent, cluster, token, *extra_args)
        return agent

    def launch(self, agent: Agent, cluster: Cluster, token: str, *extra_args: str) -> None:
        """(Re)starts the agent's process in its namespace."""
        log = open(agent.log_path, "ab")
        agent.proc = subprocess.Popen(
            ["nsenter", f"--net=/run/netns/{agent.netns}", sys.executable, "-m",
             "kubelite.cli.main", "agent", "--server", cluster.url, "--token", token,
             "--node-name", agent.name, "--node-ip", agent.address, "--runtime", "runc",
             "--data-dir", str(agent.data_dir), *cluster.network_args(), *extra_args],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()

    def exited(self) -> list[str]:
        """The agents whose process ended while it should run."""
        return [a.name for a in self.agents if a.proc is not None and a.proc.poll() is not None]

    def report(self, lines: int = 40) -> str:
        """Each agent's state and the end of its log, for a failing test's message."""
        parts = []
        for agent in self.agents:
            state = ("stopped" if agent.proc is None else "running" if agent.proc.poll() is None
                     else f"exited {agent.proc.returncode}")
            try:
                tail = agent.log_path.read_text(errors="replace").splitlines()[-lines:]
            except OSError as err:
                tail = [str(err)]
            parts.append(f"\n--- agent {agent.name} ({state}) ---\n" + "\n".join(tail))
        return "".join(parts)

    def close(self) -> None:
        """Everything made here goes, each step on its own so one failure skips none."""
        for agent in self.agents:
            agent.stop()
            _remove_runc_leftovers(agent.data_dir / "agent")
            ip("netns", "del", agent.netns, check=False)
        for cidr in self._blackholes:
            ip("route", "del", "blackhole", cidr, check=False)
        if self._made_bridge:
            ip("link", "del", self.bridge, check=False)


def _remove_runc_leftovers(agent_root: Path) -> None:
    """What a killed agent leaves: its runc containers (by id) and the mounts under
    its root (container rootfs, sandbox namespaces), deepest first."""
    state = agent_root / "runc" / "runc"
    if state.is_dir():
        for container in state.iterdir():
            subprocess.run(["runc", "--root", str(state), "delete", "--force", container.name],
                           capture_output=True, timeout=30)
    prefix = str(agent_root) + "/"
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        points = [line.split()[4] for line in f]
    for point in sorted({p for p in points if p.startswith(prefix)}, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], capture_output=True, timeout=30)


def in_subnet(address: str, cidr: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(cidr)
