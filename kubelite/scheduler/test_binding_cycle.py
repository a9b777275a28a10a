"""The extension points after a node is chosen, against upstream's framework_test.go outcomes
(TestReservePlugins, TestPermitPlugins, TestBindPlugins, waiting pods)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kubelite.scheduler.binding_cycle import (
    Handle, run_bind, run_permit, run_pre_bind, run_reserve, run_unreserve, wait_on_permit)
from kubelite.scheduler.conftest import make_pod
from kubelite.scheduler.framework import Code, CycleState, Status
from kubelite.scheduler.schedule_one import Profile

Obj = dict[str, Any]


def profile(*plugins: Any) -> Profile:
    return Profile(list(plugins), {})

REJECTED = Status(Code.UNSCHEDULABLE, ("no room",))
UNRESOLVABLE = Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("never",))
ERROR = Status(Code.ERROR, ("boom",))


class Recorder:
    """A plugin at every point after Filter, answering what it is told and noting calls."""

    def __init__(self, name: str, calls: list[str], *, reserve: Status = Status(),
                 permit: tuple[Status, float] = (Status(), 0.0), pre_bind: Status = Status(),
                 bind: Status = Status()) -> None:
        self.name = name
        self.calls = calls
        self.answers = {"reserve": reserve, "pre_bind": pre_bind, "bind": bind}
        self.permit_answer = permit

    def reserve(self, state: CycleState, pod: Obj, node: str) -> Status:
        self.calls.append(f"reserve {self.name}")
        return self.answers["reserve"]

    def unreserve(self, state: CycleState, pod: Obj, node: str) -> None:
        self.calls.append(f"unreserve {self.name}")

    def permit(self, state: CycleState, pod: Obj, node: str) -> tuple[Status, float]:
        return self.permit_answer

    async def pre_bind(self, state: CycleState, pod: Obj, node: str) -> Status:
        return self.answers["pre_bind"]

    async def bind(self, state: CycleState, pod: Obj, node: str) -> Status:
        self.calls.append(f"bind {self.name}")
        return self.answers["bind"]


@pytest.mark.parametrize("answers, expected_code, expected_message, calls", [
    ([Status(), Status()], Code.SUCCESS, "", ["reserve a", "reserve b"]),
    ([REJECTED, Status()], Code.UNSCHEDULABLE, "no room", ["reserve a"]),
    ([Status(), UNRESOLVABLE], Code.UNSCHEDULABLE_AND_UNRESOLVABLE, "never", ["reserve a", "reserve b"]),
    ([ERROR, Status()], Code.ERROR, 'running Reserve plugin "a": boom', ["reserve a"]),
], ids=["all-succeed", "rejection-stops-and-names-its-plugin", "unresolvable-kept",
        "error-is-wrapped"])
def test_reserve_runs_in_order_and_stops_at_the_first_failure(
        answers: list[Status], expected_code: Code, expected_message: str, calls: list[str]) -> None:
    seen: list[str] = []
    plugins = profile(Recorder("a", seen, reserve=answers[0]), Recorder("b", seen, reserve=answers[1]))
    status = run_reserve(plugins, CycleState(), make_pod(), "n")
    assert (status.code, status.message(), seen) == (expected_code, expected_message, calls)
    if status.is_rejected():
        assert status.plugin in ("a", "b")


def test_unreserve_runs_every_plugin_in_reverse_order() -> None:
    seen: list[str] = []
    plugins = profile(Recorder("a", seen), Recorder("b", seen), Recorder("c", seen))
    run_unreserve(plugins, CycleState(), make_pod(), "n")
    assert seen == ["unreserve c", "unreserve b", "unreserve a"]


async def test_permit_rejection_and_error_are_worded_as_upstream() -> None:
    handle = Handle(None)
    rejected = run_permit(profile(Recorder("a", [], permit=(REJECTED, 0))), handle, CycleState(), make_pod(), "n")
    assert (rejected.code, rejected.plugin, rejected.message()) == (Code.UNSCHEDULABLE, "a", "no room")
    failed = run_permit(profile(Recorder("a", [], permit=(ERROR, 0))), handle, CycleState(), make_pod(), "n")
    assert (failed.code, failed.message()) == (Code.ERROR, 'running Permit plugin "a": boom')
    assert len(handle.waiting_pods) == 0


WAIT = Status(Code.WAIT)


async def test_a_waiting_pod_binds_once_every_waiting_plugin_allows_it() -> None:
    handle = Handle(None)
    pod = make_pod("p")
    plugins = profile(Recorder("a", [], permit=(WAIT, 60)), Recorder("b", [], permit=(WAIT, 60)))
    status = run_permit(plugins, handle, CycleState(), pod, "n")
    assert status.code == Code.WAIT
    assert status.message() == 'one or more plugins asked to wait and no plugin rejected pod "p"'
    waiting = handle.get_waiting_pod(pod["metadata"]["uid"])
    assert waiting is not None and sorted(waiting.pending_plugins()) == ["a", "b"]
    result = asyncio.ensure_future(wait_on_permit(handle, pod))
    waiting.allow("a")
    await asyncio.sleep(0)
    assert not result.done()  # b has not allowed it yet
    waiting.allow("b")
    assert (await result).is_success()
    assert handle.get_waiting_pod(pod["metadata"]["uid"]) is None


async def test_a_waiting_pod_is_rejected_by_its_timeout() -> None:
    handle = Handle(None)
    pod = make_pod("p")
    run_permit(profile(Recorder("gang", [], permit=(WAIT, 0))), handle, CycleState(), pod, "n")
    status = await asyncio.wait_for(wait_on_permit(handle, pod), 5)
    assert (status.code, status.plugin) == (Code.UNSCHEDULABLE, "gang")
    assert status.message() == "rejected due to timeout after waiting 0s at plugin gang"


async def test_rejecting_a_waiting_pod_by_uid_unblocks_it() -> None:
    handle = Handle(None)
    pod = make_pod("p")
    pod["metadata"]["uid"] = "u-1"
    run_permit(profile(Recorder("a", [], permit=(WAIT, 600))), handle, CycleState(), pod, "n")
    result = asyncio.ensure_future(wait_on_permit(handle, pod))
    assert handle.reject_waiting_pod("u-1")
    assert not handle.reject_waiting_pod("u-2")
    status = await result
    assert (status.code, status.message()) == (Code.UNSCHEDULABLE, "removed")


async def test_a_pod_that_never_waited_passes_wait_on_permit() -> None:
    assert (await wait_on_permit(Handle(None), make_pod())).is_success()


@pytest.mark.parametrize("answers, expected_code, expected_message, calls", [
    ([Status.skip(), Status()], Code.SUCCESS, "", ["bind a", "bind b"]),
    ([Status(), Status()], Code.SUCCESS, "", ["bind a"]),
    ([ERROR, Status()], Code.ERROR, 'running Bind plugin "a": boom', ["bind a"]),
    ([Status.skip(), Status.skip()], Code.SKIP, "", ["bind a", "bind b"]),
], ids=["skip-passes-to-the-next", "first-binder-wins", "error-is-wrapped", "all-skip"])
async def test_bind_stops_at_the_first_plugin_that_does_not_skip(
        answers: list[Status], expected_code: Code, expected_message: str, calls: list[str]) -> None:
    seen: list[str] = []
    plugins = profile(Recorder("a", seen, bind=answers[0]), Recorder("b", seen, bind=answers[1]))
    status = await run_bind(plugins, CycleState(), make_pod(), "n")
    assert (status.code, status.message(), seen) == (expected_code, expected_message, calls)


async def test_pre_bind_error_names_its_plugin() -> None:
    plugins = profile(Recorder("ok", []), Recorder("VolumeBinding", [], pre_bind=ERROR))
    status = await run_pre_bind(plugins, CycleState(), make_pod(), "n")
    assert status.message() == 'running PreBind plugin "VolumeBinding": boom'
