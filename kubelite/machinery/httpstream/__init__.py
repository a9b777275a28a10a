"""Streams over an upgraded HTTP connection (upstream's apimachinery/pkg/util/httpstream):
taking a raw connection over from aiohttp (upgrade.py) and SPDY/3.1 (spdy.py), what
kubectl speaks to a kubelet for port-forward (and for exec where WebSocket fails)."""
