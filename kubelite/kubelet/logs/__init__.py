"""Container logs: the CRI log format, written by the runtimes (writer.py) and read
by the kubelet's server for `kubectl logs` (reader.py)."""
