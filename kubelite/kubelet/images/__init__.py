"""The node's images: pulled over the OCI distribution protocol or imported from
files, kept in a content-addressed store shared by the kubelet and `kubelite image`,
each layer unpacked once for overlayfs, collected when the disk fills (the "Images"
section of kubelite/kubelet/README.md)."""

from pathlib import Path

from kubelite.kubelet.images.gc import ImageGC, ImageGCPolicy
from kubelite.kubelet.images.service import ImageService
from kubelite.kubelet.images.store import ImageStore

__all__ = ["ImageGC", "ImageGCPolicy", "ImageService", "ImageStore", "store_root"]


def store_root(data_dir: Path) -> Path:
    """Where a node keeps its images under its data dir."""
    return data_dir / "agent" / "images"
