"""`kubelite`: the command line. The one place that wires components together.

    kubelite server [--data-dir DIR] [--bind-address 127.0.0.1] [--port 6443]
                    [--datastore-endpoint sqlite:///path | http://etcd:2379,...]

The server listens on loopback unless told otherwise: until kubelite authenticates
clients, a non-loopback address needs --allow-insecure-bind, said out loud.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
import os
import signal
import sys
from pathlib import Path

from kubelite.apiserver.watchcache import HISTORY_SIZE
from kubelite.cli.kubeconfig import write_kubeconfig

log = logging.getLogger("kubelite")


def default_data_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/kubelite")
    return Path.home() / ".local/share/kubelite"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kubelite", description="A lightweight Kubernetes")
    sub = parser.add_subparsers(dest="command", required=True)
    server = sub.add_parser("server", help="run the control plane")
    server.add_argument("--data-dir", type=Path, default=None,
                        help="where the cluster's state lives (default /var/lib/kubelite "
                             "as root, ~/.local/share/kubelite otherwise)")
    server.add_argument("--bind-address", default="127.0.0.1")
    server.add_argument("--port", type=int, default=6443)
    server.add_argument("--datastore-endpoint", default="",
                        help="sqlite:///path/to/db (default: <data-dir>/db/state.db) or "
                             "etcd URLs, comma separated (http://127.0.0.1:2379)")
    server.add_argument("--service-cidr", default="10.43.0.0/16")
    server.add_argument("--allow-insecure-bind", action="store_true",
                        help="allow a non-loopback --bind-address although clients are "
                             "not authenticated yet")
    server.add_argument("--watch-cache-history", type=int, default=HISTORY_SIZE,
                        help="events kept per resource for watches that resume from an "
                             "older resourceVersion; older ones get 410 Gone")
    server.add_argument("--compaction-interval", type=float, default=300.0,
                        help="seconds between store compactions (0: never)")
    server.add_argument("--log-level", default="INFO")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "server":
        if not _is_loopback(args.bind_address) and not args.allow_insecure_bind:
            print(f"kubelite: refusing to listen on {args.bind_address}: the API is not "
                  f"authenticated yet; pass --allow-insecure-bind to do it anyway",
                  file=sys.stderr)
            return 2
        try:
            import uvloop
            uvloop.install()
        except ImportError:
            pass
        return asyncio.run(run_server(args))
    return 2


async def run_server(args: argparse.Namespace) -> int:
    from kubelite.apiserver.app import APIServer
    from kubelite.storage.factory import open_backend

    data_dir: Path = args.data_dir or default_data_dir()
    (data_dir / "db").mkdir(parents=True, exist_ok=True)
    endpoint = args.datastore_endpoint or f"sqlite://{data_dir / 'db' / 'state.db'}"
    server = APIServer(backend=open_backend(endpoint), host=args.bind_address,
                       port=args.port, service_cidr=args.service_cidr,
                       watch_history=args.watch_cache_history,
                       compaction_interval=args.compaction_interval)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await server.start()
    kubeconfig = write_kubeconfig(data_dir / "kubeconfig", server.url)
    print(f"kubelite: API server listening on {server.url}", flush=True)
    print(f"kubelite: admin kubeconfig written to {kubeconfig}", flush=True)
    print(f"kubelite: ready (KUBECONFIG={kubeconfig} kubectl get ns)", flush=True)
    await stop.wait()
    print("kubelite: stopping", flush=True)
    await server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
