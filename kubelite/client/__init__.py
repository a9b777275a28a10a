"""kubelite's client: the REST client, informers, work queue, controller runner and
leader election that every component uses to reach an API server (kubelite's or any
Kubernetes)."""

from kubelite.client.controller import Controller, PermanentError, TemporaryError
from kubelite.client.informer import Informer
from kubelite.client.inprocess import InProcessTransport
from kubelite.client.kubeconfig import ClusterConfig, in_cluster_config, load_kubeconfig
from kubelite.client.leaderelection import LeaderElector
from kubelite.client.resource import Resource, resolve
from kubelite.client.rest import Client
from kubelite.client.status import from_body, from_status
from kubelite.client.store import Indexer, Lister, object_key, split_key
from kubelite.client.transport import HTTPTransport, Transport, TransportError
from kubelite.client.workqueue import WorkQueue

__all__ = [
    "Client", "ClusterConfig", "Controller", "HTTPTransport", "InProcessTransport", "Indexer",
    "Informer", "LeaderElector", "Lister", "PermanentError", "Resource", "TemporaryError",
    "Transport", "TransportError", "WorkQueue",
    "from_body", "from_status", "in_cluster_config", "load_kubeconfig", "object_key",
    "resolve", "split_key",
]
