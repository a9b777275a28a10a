"""The kubelet's HTTPS server: logs, exec, attach, port-forward, pods, stats hooks."""
