"""The `runc` container runtime: cri.RuntimeService on Debian's runc (see runtime.py
and README.md)."""

from kubelite.kubelet.runtime.runc.bundle import ImageLayers
from kubelite.kubelet.runtime.runc.runtime import RuncRuntime

__all__ = ["ImageLayers", "RuncRuntime"]
