"""Stats of real host processes, parsed as the Prometheus text a scraper reads."""

from __future__ import annotations

import asyncio
import datetime
from kubelite.kubelet import cri, stats
from kubelite.kubelet.runtime.host import HostRuntime
from kubelite.machinery.prometheus import parse

POD = cri.PodSandboxConfig(cri.PodSandboxMetadata("busy", "team-a", "uid-7"))


async def _start(runtime: HostRuntime, sandbox: str, name: str, script: str) -> str:
    config = cri.ContainerConfig(cri.ContainerMetadata(name), image="host", command=("/bin/sh", "-c", script))
    container = await runtime.create_container(sandbox, config, POD)
    await runtime.start_container(container)
    return container


async def test_metrics_resource_parses_as_metrics_server_reads_it(runtime: HostRuntime) -> None:
    sandbox = await runtime.run_pod_sandbox(POD)
    await _start(runtime, sandbox, "spin", "while :; do :; done")
    await _start(runtime, sandbox, "idle", "exec sleep 60")
    exited = await _start(runtime, sandbox, "done", "exit 0")
    while (await runtime.container_status(exited)).state is not cri.ContainerState.EXITED:
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)  # the spinning shell burns some CPU

    samples = list(parse(stats.resource_metrics(await stats.read(runtime))))
    values = {(s.name, s.labels.get("container", "")): s for s in samples}
    assert values[("node_memory_working_set_bytes", "")].value > 0
    assert values[("node_cpu_usage_seconds_total", "")].value > 0
    containers = {s.labels["container"] for s in samples if s.name == "container_cpu_usage_seconds_total"}
    assert containers == {"spin", "idle"}  # an exited container has no stats
    assert {(s.labels["namespace"], s.labels["pod"]) for s in samples if "pod" in s.labels} == {("team-a", "busy")}
    assert values[("container_cpu_usage_seconds_total", "spin")].value > 0
    assert values[("container_memory_working_set_bytes", "idle")].value > 0
    assert values[("resource_scrape_error", "")].value == 0


async def test_summary_rates_need_a_second_reading(runtime: HostRuntime) -> None:
    sandbox = await runtime.run_pod_sandbox(POD)
    await _start(runtime, sandbox, "spin", "while :; do :; done")
    summary = stats.Summary("node-1", datetime.datetime(2026, 12, 8, tzinfo=datetime.timezone.utc))
    first = summary.render(await stats.read(runtime))
    assert first["node"]["nodeName"] == "node-1"
    (pod,) = first["pods"]
    assert pod["podRef"] == {"name": "busy", "namespace": "team-a", "uid": "uid-7"}
    assert "usageNanoCores" not in pod["containers"][0]["cpu"]

    await asyncio.sleep(0.3)
    second = summary.render(await stats.read(runtime))
    container = second["pods"][0]["containers"][0]
    assert container["name"] == "spin"
    assert container["cpu"]["usageNanoCores"] > 0
    assert second["pods"][0]["cpu"]["usageNanoCores"] == container["cpu"]["usageNanoCores"]
    assert second["node"]["cpu"]["usageNanoCores"] > 0
