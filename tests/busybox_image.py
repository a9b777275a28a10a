#!/usr/bin/env python3
"""tests/busybox_image.py OUT.tar [TAG...]: a docker-archive image of Debian's busybox-static (every applet
linked in /bin), for offline nodes. Default tags: busybox:latest."""
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import time

BUSYBOX = "/bin/busybox"


def layer_bytes() -> bytes:
    applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True, check=True).stdout.split()
    buf = io.BytesIO()
    now = int(time.time())
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        def add_dir(name, mode=0o755):
            ti = tarfile.TarInfo(name); ti.type = tarfile.DIRTYPE; ti.mode = mode; ti.mtime = now; t.addfile(ti)

        def add_file(name, data, mode=0o644):
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode; ti.mtime = now
            t.addfile(ti, io.BytesIO(data))
        for d in ("bin", "etc", "root", "var", "var/www", "home", "usr", "usr/bin", "usr/sbin", "sbin"):
            add_dir(d)
        add_dir("tmp", 0o1777)
        with open(BUSYBOX, "rb") as f:
            add_file("bin/busybox", f.read(), 0o755)
        for a in applets:
            if a == "busybox":
                continue
            ti = tarfile.TarInfo(f"bin/{a}"); ti.type = tarfile.SYMTYPE; ti.linkname = "busybox"; ti.mtime = now
            t.addfile(ti)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n")
        add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
    return buf.getvalue()


def main() -> None:
    out, tags = sys.argv[1], sys.argv[2:] or ["busybox:latest"]
    if not os.path.exists(BUSYBOX) or b"static" not in subprocess.run(["file", BUSYBOX], capture_output=True).stdout:
        subprocess.run(["apt-get", "install", "-y", "-qq", "busybox-static"], check=True, capture_output=True)
    layer = layer_bytes()
    diff_id = hashlib.sha256(layer).hexdigest()
    config = json.dumps({"architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
                         "config": {"Cmd": ["sh"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
                         "rootfs": {"type": "layers", "diff_ids": [f"sha256:{diff_id}"]}}).encode()
    config_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": f"{config_id}.json", "RepoTags": tags, "Layers": [f"{diff_id}/layer.tar"]}]).encode()
    with tarfile.open(out, "w") as t:
        for name, data in ((f"{diff_id}/layer.tar", layer), (f"{config_id}.json", config), ("manifest.json", manifest)):
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = int(time.time()); t.addfile(ti, io.BytesIO(data))
    print(out)


if __name__ == "__main__":
    main()
