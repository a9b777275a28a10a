"""Node authorization rate as the number of pods grows.

    python benchmarks/bench_node_authz.py [--pods 0 1000 10000] [--calls 20000]

For each count: a fresh API server on SQLite in a temporary directory, with the
`Node,RBAC` chain (authorization.py); that many pods written through the registry,
spread over 100 nodes, each pod mounting a Secret of its own and a shared one, plus
pod `web` on node n0 mounting Secret `mine`. Then the chain decides, `--calls` times
each, what node n0 asks: the Secret its pod uses (allowed), another node's pod's
Secret (refused: no relationship), its own Node, and an event (system:node's
rules). Prints decisions per second: they should not fall as pods grow, since a
decision looks the object up in the graph's indexes instead of walking it. No HTTP:
the authorizer's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.attributes import Attributes, Decision
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.authorization import configure_authorization
from kubelite.apiserver.registry.store import WriteOptions

from kubelite.storage.factory import open_backend

from bench_rbac import decision_rates  # the same timing loop as the RBAC benchmark

N0 = UserInfo("system:node:n0", groups=("system:nodes", "system:authenticated"))


def pod(name: str, node: str, secret: str) -> dict[str, object]:
    return {"metadata": {"name": name, "namespace": "bench"}, "spec": {
        "nodeName": node, "containers": [{"name": "c", "image": "busybox"}],
        "volumes": [{"name": "own", "secret": {"secretName": secret}},
                    {"name": "shared", "secret": {"secretName": "shared"}}]}}


async def fill(server: APIServer, pods: int) -> None:
    opts = WriteOptions(field_manager="bench")
    await server.registry.store_for("", "namespaces").create(
        "", {"metadata": {"name": "bench"}}, opts)
    store = server.registry.store_for("", "pods")
    pending = [store.create("bench", pod(f"p-{i}", f"n{1 + i % 100}", f"s-{i}"), opts)
               for i in range(pods)]
    for start in range(0, len(pending), 200):
        await asyncio.gather(*pending[start:start + 200])
    await store.create("bench", pod("web", "n0", "mine"), opts)
    await server.cache.wait_for(server.cache.revision)


async def measure(pods: int, calls: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = APIServer(backend=open_backend(f"sqlite://{tmp}/db"), port=0,
                           compaction_interval=0)
        chain = await configure_authorization(server, ("Node", "RBAC"))
        await server.start()
        try:
            await fill(server, pods)

            def ask(verb: str, resource: str, name: str, namespace: str = "bench"
                    ) -> Attributes:
                return Attributes(N0, verb, True, api_version="v1", namespace=namespace,
                                  resource=resource, name=name)
            return await decision_rates(chain, calls, {
                "own secret": (ask("get", "secrets", "mine"), Decision.ALLOW),
                "other secret": (ask("get", "secrets", "s-0"), Decision.NO_OPINION),
                "own node": (ask("get", "nodes", "n0", ""), Decision.ALLOW),
                "event": (ask("create", "events", ""), Decision.ALLOW)})
        finally:
            await server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, nargs="+", default=[0, 1000, 10000])
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    labels = ("own secret", "other secret", "own node", "event")
    print(f"{'pods':>6}  " + "  ".join(f"{label + '/s':>14}" for label in labels))
    for count in args.pods:
        rates = await measure(count, args.calls)
        print(f"{count:>6}  " + "  ".join(f"{rates[label]:>14.0f}" for label in labels),
              flush=True)


if __name__ == "__main__":
    asyncio.run(main())
