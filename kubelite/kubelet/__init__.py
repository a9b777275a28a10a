"""kubelite's kubelet: the node agent. It reaches the API only through kubelite.client,
so it runs unchanged against any Kubernetes API server."""
