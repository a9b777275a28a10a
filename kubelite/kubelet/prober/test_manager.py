"""The prober manager driving real probes of real containers (the host runtime) and a
real HTTP server: readiness, liveness with its hold, startup gating the others, a new
container instance starting afresh. Probe times are scaled down (time_scale), and
tests await the results they expect, never a fixed sleep."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kubelite.kubelet import cri
from kubelite.kubelet.prober import ProbeManager
from kubelite.kubelet.prober.conftest import serve
from kubelite.kubelet.prober.results import ProbeType
from kubelite.kubelet.runtime.host import HostRuntime

Obj = dict[str, Any]
WAIT = 10.0
FAST = 0.01  # a periodSeconds of 1 probes every 10 ms


class Events:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []

    def event(self, obj: Obj, type_: str, reason: str, message: str) -> None:
        self.seen.append((type_, reason, message))


async def until(condition: Callable[[], bool]) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.005)
    await asyncio.wait_for(poll(), WAIT)


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
async def probes(runtime: HostRuntime, events: Events) -> AsyncIterator[ProbeManager]:
    manager = ProbeManager(runtime, time_scale=FAST, events=events)
    yield manager
    manager.close()


async def start(runtime: HostRuntime, tmp_path: Path, name: str = "app") -> str:
    metadata = cri.PodSandboxMetadata("web", "default", "uid-1")
    config = cri.PodSandboxConfig(metadata, log_directory=str(tmp_path / "logs"))
    sandbox = await runtime.run_pod_sandbox(config)
    container = await runtime.create_container(sandbox, cri.ContainerConfig(
        cri.ContainerMetadata(name), image="host", command=("sleep", "300"),
        log_path=f"{name}/0.log"), config)
    await runtime.start_container(container)
    return container


def pod(**container: Any) -> Obj:
    return {"metadata": {"name": "web", "namespace": "default", "uid": "uid-1"},
            "spec": {"containers": [{"name": "app", **container}]}}


def exec_probe(script: str, **timing: Any) -> Obj:
    return {"exec": {"command": ["sh", "-c", script]}, "periodSeconds": 1, **timing}


async def test_readiness_follows_an_http_endpoint(probes: ProbeManager, events: Events,
                                                  runtime: HostRuntime, tmp_path: Path) -> None:
    healthy = {"now": True}

    async def health(_: web.Request) -> web.Response:
        return web.Response(status=200 if healthy["now"] else 503)
    app = web.Application()
    app.router.add_get("/healthz", health)
    runner, port = await serve(app)
    changes: list[str] = []
    probes.on_change(changes.append)
    try:
        spec = pod(readinessProbe={"httpGet": {"path": "/healthz", "port": port},
                                   "periodSeconds": 1, "failureThreshold": 2})
        assert not probes.ready("uid-1", "app")
        probes.update_pod(spec, "127.0.0.1", {"app": await start(runtime, tmp_path)})
        assert not probes.ready("uid-1", "app")  # not until the probe says so
        await until(lambda: probes.ready("uid-1", "app"))
        assert changes == ["uid-1"] and probes.started("uid-1", "app")
        healthy["now"] = False
        await until(lambda: not probes.ready("uid-1", "app"))
        assert ("Warning", "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503") in events.seen
        assert not probes.liveness_failed("uid-1", "app")  # readiness never restarts
    finally:
        await runner.cleanup()


async def test_liveness_fails_after_its_threshold_and_holds(
        probes: ProbeManager, events: Events, runtime: HostRuntime, tmp_path: Path) -> None:
    flag = tmp_path / "alive"
    flag.touch()
    spec = pod(livenessProbe=exec_probe(f"test -e {flag} || {{ echo gone; exit 1; }}",
                                        failureThreshold=3))
    first = await start(runtime, tmp_path)
    probes.update_pod(spec, "127.0.0.1", {"app": first})
    assert probes.ready("uid-1", "app") and not probes.liveness_failed("uid-1", "app")
    flag.unlink()
    await until(lambda: probes.liveness_failed("uid-1", "app"))
    assert [e for e in events.seen if e[1] == "Unhealthy"] == \
        [("Warning", "Unhealthy", "Liveness probe failed: gone\n")] * 3
    assert probes.failure_message("uid-1", "app") == \
        "Container app failed liveness probe, will be restarted"
    worker = probes.worker("uid-1", "app", ProbeType.LIVENESS)
    assert worker is not None and worker.state.on_hold
    flag.touch()
    await worker.probe_once()  # on hold: nothing is probed for this instance any more
    assert probes.liveness_failed("uid-1", "app") and len(events.seen) == 3

    second = await start(runtime, tmp_path)  # the pod worker restarted it
    probes.update_pod(spec, "127.0.0.1", {"app": second})
    assert not probes.liveness_failed("uid-1", "app")
    assert worker.task is not None  # the old instance's worker is stopped
    await asyncio.wait_for(asyncio.gather(worker.task, return_exceptions=True), WAIT)
    assert worker.task.cancelled()


async def test_startup_gates_liveness_and_readiness(probes: ProbeManager, events: Events,
                                                    runtime: HostRuntime, tmp_path: Path) -> None:
    started, runs = tmp_path / "started", tmp_path / "runs"
    spec = pod(startupProbe=exec_probe(f"test -e {started}", failureThreshold=1000),
               livenessProbe=exec_probe(f"echo >> {runs}"))
    probes.update_pod(spec, "127.0.0.1", {"app": await start(runtime, tmp_path)})
    await until(lambda: len(events.seen) >= 3)  # the startup probe has failed thrice
    assert {e[2] for e in events.seen} == {"Startup probe failed: "}
    assert not probes.started("uid-1", "app") and not probes.ready("uid-1", "app")
    assert not runs.exists()  # liveness waits for startup
    started.touch()
    await until(lambda: probes.started("uid-1", "app"))
    assert probes.ready("uid-1", "app")  # no readinessProbe: ready once started
    await until(runs.exists)
    startup = probes.worker("uid-1", "app", ProbeType.STARTUP)
    assert startup is not None
    count = len(events.seen)
    started.unlink()
    await startup.probe_once()  # started: the startup probe runs no more
    assert probes.started("uid-1", "app") and len(events.seen) == count


async def test_startup_failure_restarts_the_container(probes: ProbeManager,
                                                      runtime: HostRuntime,
                                                      tmp_path: Path) -> None:
    spec = pod(startupProbe=exec_probe("exit 1", failureThreshold=2))
    probes.update_pod(spec, "127.0.0.1", {"app": await start(runtime, tmp_path)})
    await until(lambda: probes.liveness_failed("uid-1", "app"))
    assert probes.failure_message("uid-1", "app") == \
        "Container app failed startup probe, will be restarted"


async def test_initial_delay_counts_from_the_containers_start(runtime: HostRuntime,
                                                              tmp_path: Path) -> None:
    now = [0.0]
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    probes = ProbeManager(runtime, clock=lambda: now[0])  # periods of an hour: we drive it
    try:
        spec = pod(readinessProbe={"tcpSocket": {"port": port}, "initialDelaySeconds": 5,
                                   "periodSeconds": 3600})
        probes.update_pod(spec, "127.0.0.1", {"app": await start(runtime, tmp_path)})
        worker = probes.worker("uid-1", "app", ProbeType.READINESS)
        assert worker is not None
        now[0] = 4.0  # (the runtime says it started a moment before the worker saw it)
        await worker.probe_once()
        assert not probes.ready("uid-1", "app")
        now[0] = 5.0
        await worker.probe_once()
        assert probes.ready("uid-1", "app")
    finally:
        probes.close()
        server.close()


async def test_a_pod_being_deleted_is_not_restarted(probes: ProbeManager, runtime: HostRuntime,
                                                    tmp_path: Path) -> None:
    spec = pod(livenessProbe=exec_probe("exit 1", failureThreshold=1))
    container = await start(runtime, tmp_path)
    probes.update_pod(spec, "127.0.0.1", {"app": container})
    await until(lambda: probes.liveness_failed("uid-1", "app"))
    spec["metadata"]["deletionTimestamp"] = "2026-12-08T00:00:00Z"
    probes.update_pod(spec, "127.0.0.1", {"app": container})
    await until(lambda: not probes.liveness_failed("uid-1", "app"))


async def test_containers_gone_and_pods_removed_stop_their_workers(
        probes: ProbeManager, runtime: HostRuntime, tmp_path: Path) -> None:
    spec = pod(readinessProbe=exec_probe("true"))
    probes.update_pod(spec, "127.0.0.1", {"app": await start(runtime, tmp_path)})
    worker = probes.worker("uid-1", "app", ProbeType.READINESS)
    assert worker is not None and worker.task is not None
    await until(lambda: probes.ready("uid-1", "app"))
    probes.update_pod(spec, "127.0.0.1", {})  # the container stopped
    assert not probes.ready("uid-1", "app") and not probes.started("uid-1", "app")
    await asyncio.wait_for(asyncio.gather(worker.task, return_exceptions=True), WAIT)
    assert worker.task.cancelled()
    probes.update_pod(spec, "127.0.0.1", {"app": await start(runtime, tmp_path)})
    again = probes.worker("uid-1", "app", ProbeType.READINESS)
    probes.remove_pod("uid-1")
    assert again is not None and again.task is not None
    await asyncio.wait_for(asyncio.gather(again.task, return_exceptions=True), WAIT)
    assert probes.worker("uid-1", "app", ProbeType.READINESS) is None


async def test_initial_delay_counts_from_the_runtimes_start_time(
        runtime: HostRuntime, tmp_path: Path) -> None:
    """A restarted kubelet finds containers that started long ago: their initial delay
    counts from the runtime's startedAt, not from when the prober first sees them."""
    container = await start(runtime, tmp_path)
    started = (await runtime.container_status(container)).started_at / 1e9
    probes = ProbeManager(runtime, clock=lambda: 1000.0)
    try:
        spec = pod(readinessProbe={"exec": {"command": ["true"]}, "periodSeconds": 3600})
        probes.update_pod(spec, "127.0.0.1", {"app": container})
        worker = probes.worker("uid-1", "app", ProbeType.READINESS)
        assert worker is not None and worker.started_at == 1000.0
        before = time.time()
        await worker._learn_start()
        after = time.time()
        assert 1000.0 - (after - started) <= worker.started_at <= 1000.0 - (before - started)
    finally:
        probes.close()


async def test_a_probe_that_cannot_run_changes_nothing(probes: ProbeManager, events: Events,
                                                      runtime: HostRuntime,
                                                      tmp_path: Path) -> None:
    container = await start(runtime, tmp_path)
    await runtime.stop_container(container, 0)  # exec has nothing to run in
    probes.update_pod(pod(livenessProbe=exec_probe("true", failureThreshold=1)), "127.0.0.1",
                      {"app": container})
    await until(lambda: len(events.seen) >= 2)
    assert all(e[1] == "Unhealthy" and e[2].startswith("Liveness probe errored: ")
               for e in events.seen)
    assert not probes.liveness_failed("uid-1", "app")
