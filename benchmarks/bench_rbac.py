"""RBAC authorization rate as the number of RoleBindings grows.

    python benchmarks/bench_rbac.py [--bindings 0 1000 10000] [--calls 20000]

For each count: a fresh API server on SQLite in a temporary directory, with the RBAC
authorizer (authorization.py) and the default policy; that many RoleBindings written
through the registry (spread over 100 namespaces, each binding a Role to its own
user and a group of ten), plus jane's binding of a pod-reader Role in `web`. Then the
authorizer chain decides, `--calls` times each, an allowed request (jane lists pods in
`web`), a refused one (jane deletes them) and a discovery path (the
system:discovery ClusterRoleBinding). Prints decisions per second: they should not
fall as bindings grow, since a decision looks the user's names up in the indexes
instead of scanning the bindings. No HTTP: the authorizer's own cost.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

from kubelite.apiserver.app import APIServer
from kubelite.apiserver.auth.attributes import Attributes, AuthorizerChain, Decision
from kubelite.apiserver.auth.user import UserInfo
from kubelite.apiserver.authorization import configure_authorization
from kubelite.apiserver.registry.store import WriteOptions
from kubelite.storage.factory import open_backend

RBAC = "rbac.authorization.k8s.io"
JANE = UserInfo("jane", groups=("developers", "system:authenticated"))


async def fill(server: APIServer, bindings: int) -> None:
    opts = WriteOptions(field_manager="bench")
    registry = server.registry
    namespaces = [f"ns-{i}" for i in range(min(100, max(bindings, 1)))] + ["web"]
    for name in namespaces:
        await registry.store_for("", "namespaces").create(
            "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}, opts)
    roles = registry.store_for(RBAC, "roles")
    role_bindings = registry.store_for(RBAC, "rolebindings")
    for name in namespaces:
        await roles.create(name, {"metadata": {"name": "pod-reader", "namespace": name},
                                  "rules": [{"apiGroups": [""], "resources": ["pods"],
                                             "verbs": ["get", "list", "watch"]}]}, opts)

    def binding(namespace: str, name: str, user: str, group: str) -> dict[str, object]:
        return {"metadata": {"name": name, "namespace": namespace},
                "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "pod-reader"},
                "subjects": [{"apiGroup": RBAC, "kind": "User", "name": user},
                             {"apiGroup": RBAC, "kind": "Group", "name": group}]}
    pending = [role_bindings.create(namespaces[i % (len(namespaces) - 1)], binding(
        namespaces[i % (len(namespaces) - 1)], f"b-{i}", f"user-{i}", f"group-{i % 10}"), opts)
               for i in range(bindings)]
    for start in range(0, len(pending), 200):
        await asyncio.gather(*pending[start:start + 200])
    await role_bindings.create("web", binding("web", "jane", "jane", "nobody"), opts)
    await server.cache.wait_for(server.cache.revision)


async def measure(bindings: int, calls: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        server = APIServer(backend=open_backend(f"sqlite://{tmp}/db"), port=0,
                           compaction_interval=0)
        chain = await configure_authorization(server)
        await server.start()
        try:
            await fill(server, bindings)
            return await decision_rates(chain, calls, {
                "allowed": (Attributes(JANE, "list", True, api_version="v1", namespace="web",
                                       resource="pods"), Decision.ALLOW),
                "refused": (Attributes(JANE, "delete", True, api_version="v1",
                                       namespace="web", resource="pods", name="p"),
                            Decision.NO_OPINION),
                "discovery": (Attributes(JANE, "get", False, path="/apis/apps/v1"),
                              Decision.ALLOW),
            })
        finally:
            await server.stop()


async def decision_rates(chain: AuthorizerChain, calls: int,
                         cases: dict[str, tuple[Attributes, Decision]]) -> dict[str, float]:
    """Decisions per second for each case, after checking the chain decides it as
    expected (a fast wrong answer measures nothing)."""
    rates: dict[str, float] = {}
    for label, (attrs, expected) in cases.items():
        assert (await chain.authorize(attrs))[0] is expected, label
        started = time.perf_counter()
        for _ in range(calls):
            await chain.authorize(attrs)
        rates[label] = calls / (time.perf_counter() - started)
    return rates


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bindings", type=int, nargs="+", default=[0, 1000, 10000])
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    print(f"{'RoleBindings':>12}  {'allowed/s':>10}  {'refused/s':>10}  {'discovery/s':>11}")
    for count in args.bindings:
        rates = await measure(count, args.calls)
        print(f"{count:>12}  {rates['allowed']:>10.0f}  {rates['refused']:>10.0f}  "
              f"{rates['discovery']:>11.0f}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
