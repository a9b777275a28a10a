"""kubelite's metrics-server: resource usage scraped from the kubelets, served as
metrics.k8s.io/v1beta1 (see README.md)."""

from kubelite.metrics.server import MetricsServer

__all__ = ["MetricsServer"]
