"""The kubelet's volumes (parts.Volumes): see manager.py."""

from kubelite.kubelet.volumes.manager import VolumeManager

__all__ = ["VolumeManager"]
