"""`kubectl run -it --rm` and `kubectl exec -it` at a real terminal, on the runc node:
kubectl, its stdin a pseudo-terminal as a user's shell gives it, gets a shell in a
container with a terminal of its own (a tty, the size of the user's window), and
the pod is gone once the shell exits."""

from __future__ import annotations

import fcntl
import os
import select
import shutil
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubelite.kubelet.runtime.runc.mounts import mounted_under
from tests.cluster import ROOT, Cluster, tool, wait_for

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runc") is None or not Path("/bin/busybox").exists(),
    reason="the runc node needs root, runc and busybox-static (scripts/install-test-tools)")

IMAGE = "e2e/busybox:1"
ROWS, COLUMNS = 37, 101  # an odd size, so a default one cannot pass for it


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    directory = tmp_path_factory.mktemp("terminal")
    c = Cluster(directory / "data", agent=True,
                extra_args=("--node-name", "terminal-node", "--runtime", "runc"))
    archive = directory / "busybox.tar"
    subprocess.run([sys.executable, str(ROOT / "tests" / "busybox_image.py"), str(archive), IMAGE],
                   check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "kubelite.cli.main", "image", "import", "--data-dir",
                    str(c.data_dir), str(archive)], check=True, capture_output=True, cwd=ROOT)
    c.start()
    try:
        assert wait_for(lambda: c.kubectl("get", "node", "terminal-node", "--no-headers",
                                          check=False).stdout.split()[1:2] == ["Ready"])
        yield c
    finally:
        # not forced: the pods are gone once the kubelet has torn them down
        c.kubectl("delete", "pods", "--all", "--grace-period=1", "--wait=true", "--timeout=60s",
                  check=False)
        # the kubelet removes a deleted pod's containers once the API has let it go
        wait_for(lambda: not mounted_under(c.data_dir))
        c.stop()


class Terminal:
    """kubectl with a pseudo-terminal as its stdin, stdout and stderr."""

    def __init__(self, cluster: Cluster, *args: str) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        env = {**os.environ, "KUBECONFIG": cluster.kubeconfig, "HOME": str(cluster.data_dir),
               "TERM": "xterm"}
        self.proc = subprocess.Popen([tool("kubectl-1.35"), *args], stdin=slave, stdout=slave,
                                     stderr=slave, env=env, start_new_session=True)
        os.close(slave)
        self.seen = b""

    def expect(self, text: bytes, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"waited for {text!r}; the terminal shows {self.seen!r}"
            ready, _, _ = select.select([self.master], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the other side closed: kubectl exited
                    chunk = b""
                assert chunk or text in self.seen, \
                    f"kubectl exited before {text!r}; the terminal shows {self.seen!r}"
                self.seen += chunk

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def close(self) -> int:
        try:
            return self.proc.wait(timeout=60)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            os.close(self.master)


def test_kubectl_run_it_rm_gives_a_shell_at_a_terminal_and_removes_the_pod(
        cluster: Cluster) -> None:
    term = Terminal(cluster, "run", "shell", "-it", "--rm", "--restart=Never",
                    f"--image={IMAGE}", "--", "sh")
    try:
        # typed once kubectl is attached, as a user would (kubectl says so, while the
        # shell's first prompt may have come before it attached)
        term.expect(b"If you don't see a command prompt, try pressing enter.")
        term.type("echo ready-$((40+2))")
        term.expect(b"ready-42")
        term.type("tty; stty size; echo tested-$((1+1))")
        term.expect(b"tested-2")
        assert b"/dev/pts/" in term.seen  # the container has a terminal of its own
        assert f"{ROWS} {COLUMNS}".encode() in term.seen  # as big as the user's window
        term.type("exit 0")
        term.expect(b'pod "shell" deleted')
    finally:
        code = term.close()
    assert code == 0, term.seen
    assert wait_for(lambda: "shell" not in cluster.kubectl(
        "get", "pods", "-o", "name", check=False).stdout)


def test_kubectl_exec_it_gives_an_interactive_shell_in_a_running_pod(cluster: Cluster) -> None:
    cluster.kubectl("run", "sleeper", f"--image={IMAGE}", "--restart=Never", "--", "sleep", "600")
    cluster.kubectl("wait", "--for=condition=Ready", "pod/sleeper", "--timeout=60s")
    term = Terminal(cluster, "exec", "-it", "sleeper", "--", "sh")
    try:
        term.expect(b"/ # ")  # the shell's prompt: typed before it, a line would race
        # kubectl's first report of the window's size
        term.type("stty size; echo inside-$((6*7))")
        term.expect(b"inside-42")
        assert f"{ROWS} {COLUMNS}".encode() in term.seen
        term.type("exit 3")
    finally:
        code = term.close()
    assert code == 3, term.seen  # the shell's exit code is kubectl's
