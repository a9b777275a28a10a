"""What /version reports: the Kubernetes version kubelite implements, k3s-style.

kubectl warns when its minor version is more than one away from the server's, so the
server states the upstream version it matches, with kubelite's own build after `+`.
"""

from __future__ import annotations

import platform

KUBERNETES_MAJOR = "1"
KUBERNETES_MINOR = "35"
GIT_VERSION = "v1.35.0+kubelite.1"


def version_info() -> dict[str, str]:
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(),
                                                           platform.machine())
    return {
        "major": KUBERNETES_MAJOR,
        "minor": KUBERNETES_MINOR,
        "emulationMajor": KUBERNETES_MAJOR,
        "emulationMinor": KUBERNETES_MINOR,
        "minCompatibilityMajor": KUBERNETES_MAJOR,
        "minCompatibilityMinor": str(int(KUBERNETES_MINOR) - 1),
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": f"python{platform.python_version()}",
        "compiler": "cpython",
        "platform": f"linux/{machine}",
    }
