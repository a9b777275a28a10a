"""The kubelet's probes (parts.Probes): see manager.py."""

from kubelite.kubelet.prober.manager import ProbeManager

__all__ = ["ProbeManager"]
