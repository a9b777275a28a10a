"""The runc binary, always run with the runtime's own --root, so that several nodes on
one machine (each with its own data dir) never see each other's containers.

runc's create passes its own stdio to the container, so what runc itself has to say
about a failure goes to a JSON log file beside the bundle (--log), from which the
error is read back; the other commands' stderr is theirs and is read directly.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from kubelite.kubelet.cri import CRIError


class Runc:
    def __init__(self, *, root: Path, binary: str = "runc") -> None:
        self.root = root
        self.binary = binary

    def command(self, *args: str, log: Path | None = None) -> list[str]:
        logging = ["--log", str(log), "--log-format", "json"] if log else []
        return [self.binary, "--root", str(self.root), *logging, *args]

    async def _run(self, *args: str) -> tuple[int, bytes, bytes]:
        proc = await asyncio.create_subprocess_exec(
            *self.command(*args),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await proc.communicate()
        assert proc.returncode is not None
        return proc.returncode, out, err

    async def version(self) -> str:
        """"1.1.5+ds1", from `runc --version`'s first line."""
        code, out, err = await self._run("--version")
        match = re.search(rb"runc version (\S+)", out)
        if code != 0 or match is None:
            raise CRIError(f"runc --version failed: {err.decode(errors='replace').strip()}")
        return match.group(1).decode()

    async def create(
        self,
        container_id: str,
        *,
        bundle: Path,
        pid_file: Path,
        stdin: int,
        stdout: int,
        stderr: int,
        console_socket: Path | None = None,
    ) -> None:
        """Runs in the bundle, where a relative console socket is."""
        log = bundle / "runc.log"
        console = ["--console-socket", str(console_socket)] if console_socket else []
        proc = await asyncio.create_subprocess_exec(
            *self.command(
                "create", "--bundle", str(bundle), "--pid-file", str(pid_file), *console, container_id, log=log
            ),
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            cwd=bundle,
        )
        if await proc.wait() != 0:
            raise CRIError(f"runc create: {last_error(log)}", "CreateContainerError")

    async def start(self, container_id: str) -> None:
        code, _, err = await self._run("start", container_id)
        if code != 0:
            raise CRIError(f"runc start: {message(err)}", "RunContainerError")

    async def kill(self, container_id: str, signal: str, *, all_processes: bool = False) -> bool:
        """Sends a signal; False when the container has no process left to signal."""
        flags = ["--all"] if all_processes else []
        code, _, err = await self._run("kill", *flags, container_id, signal)
        if code != 0:
            text = message(err)
            if "not running" in text or "does not exist" in text or "process already finished" in text:
                return False
            raise CRIError(f"runc kill: {text}")
        return True

    async def delete(self, container_id: str) -> None:
        """Deletes the container (forcibly: a running one is killed). A container runc
        does not know is no error."""
        code, _, err = await self._run("delete", "--force", container_id)
        if code != 0 and "does not exist" not in message(err):
            raise CRIError(f"runc delete: {message(err)}")

    async def state(self, container_id: str) -> dict[str, Any] | None:
        """`runc state`: status "created", "running", "paused" or "stopped"; None when
        runc does not know the container."""
        code, out, err = await self._run("state", container_id)
        if code != 0:
            if "does not exist" in message(err):
                return None
            raise CRIError(f"runc state: {message(err)}")
        state: dict[str, Any] = json.loads(out)
        return state

    def cgroup_paths(self, container_id: str) -> dict[str, str]:
        """Where runc put the container's cgroups, from its state.json (controller ->
        directory; "" is the cgroup v2 hierarchy)."""
        try:
            data = json.loads((self.root / container_id / "state.json").read_text())
        except (OSError, ValueError):
            return {}
        paths: dict[str, str] = data.get("cgroup_paths") or {}
        return paths


def message(stderr: bytes) -> str:
    return stderr.decode(errors="replace").strip() or "failed"


def last_error(log: Path) -> str:
    """The last error runc logged, or the log's last line."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "failed (no log)"
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("level") in ("error", "fatal"):
            return str(entry.get("msg", line))
    return lines[-1] if lines else "failed"


def exit_code_of(status: int) -> int:
    """A wait status as a shell reports it: the code, or 128 + the signal."""
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code
