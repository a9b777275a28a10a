"""The StatefulSet loop against a real in-process API server on SQLite, with the
scheduler placing its pods on simulated nodes that run them."""

from __future__ import annotations

from typing import Any

from kubelite.client.rest import Client
from kubelite.controllers.manager import ControllerManager
from tests.test_controllers_replicaset import NS, cluster, events_of  # noqa: F401
from tests.test_scheduler import eventually, running

Obj = dict[str, Any]
STS = "statefulsets.apps"


def statefulset(name: str, replicas: int, *, image: str = "nginx", **spec: Any) -> Obj:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": name,
                     "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "app", "image": image}]}},
                     **spec}}


async def live_pods(client: Client, app: str) -> dict[str, Obj]:
    items = (await client.list("pods", namespace=NS, label_selector=f"app={app}"))["items"]
    return {p["metadata"]["name"]: p for p in items if not p["metadata"].get("deletionTimestamp")}


async def settled(client: Client, name: str, replicas: int) -> Obj | None:
    """The set once every replica is ready and at one revision, for its generation."""
    s = await client.get(STS, name, namespace=NS)
    st = s.get("status") or {}
    if (st.get("observedGeneration") == s["metadata"]["generation"]
            and st.get("replicas") == st.get("readyReplicas") == replicas
            and st.get("updatedReplicas") == replicas
            and st.get("currentRevision") == st.get("updateRevision")):
        return s
    return None


async def creation_order(client: Client, name: str) -> list[str]:
    events = await events_of(client, name, "SuccessfulCreate")
    events.sort(key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))
    return [e["message"] for e in events]


class PodLog:
    """Every change of the app's pods, in the API server's order (a watch)."""

    def __init__(self) -> None:
        self.changes: list[tuple[str, str, bool, bool]] = []  # type, name, ready, deleting

    async def follow(self, client: Client, app: str) -> None:
        async for type_, p in client.watch("pods", namespace=NS, label_selector=f"app={app}",
                                           resource_version="0"):
            if type_ in ("ADDED", "MODIFIED", "DELETED"):
                ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                            for c in (p.get("status") or {}).get("conditions") or ())
                self.changes.append((type_, p["metadata"]["name"], ready,
                                     bool(p["metadata"].get("deletionTimestamp"))))

    def added(self) -> list[str]:
        return [name for type_, name, _, _ in self.changes if type_ == "ADDED"]

    def ready_before_added(self, earlier: str, later: str) -> bool:
        at = next(i for i, c in enumerate(self.changes) if c[:2] == ("ADDED", later))
        return any(c[1] == earlier and c[2] for c in self.changes[:at])

    def deletions(self) -> list[tuple[str, str]]:
        """(first deletion sign, name) and ("gone", name), in order."""
        out: list[tuple[str, str]] = []
        for type_, name, _, deleting in self.changes:
            if (deleting or type_ == "DELETED") and ("deleting", name) not in out:
                out.append(("deleting", name))
            if type_ == "DELETED":
                out.append(("gone", name))
        return out


async def test_ordered_ready_scales_up_in_order_and_down_from_the_highest(
        client: Client, cluster: ControllerManager) -> None:
    log = PodLog()
    async with running(log.follow(client, "web")):
        await client.create(STS, statefulset("web", 3), namespace=NS)
        await eventually(lambda: settled(client, "web", 3))
        # one pod at a time, each Running and Ready before the next is created
        assert log.added() == ["web-0", "web-1", "web-2"]
        assert log.ready_before_added("web-0", "web-1")
        assert log.ready_before_added("web-1", "web-2")
        pods = await live_pods(client, "web")
        web1 = pods["web-1"]
        assert web1["spec"]["hostname"] == "web-1" and web1["spec"]["subdomain"] == "web"
        assert web1["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == "web-1"
        assert web1["metadata"]["labels"]["apps.kubernetes.io/pod-index"] == "1"
        s = await client.get(STS, "web", namespace=NS)
        assert (web1["metadata"]["labels"]["controller-revision-hash"]
                == s["status"]["updateRevision"] == s["status"]["currentRevision"])
        assert s["status"]["updateRevision"].startswith("web-")
        await cluster.wait_idle()
        messages = [e["message"] for e in await events_of(client, "web", "SuccessfulCreate")]
        assert "create Pod web-0 in StatefulSet web successful" in messages

        await client.patch(STS, "web", {"spec": {"replicas": 0}}, namespace=NS)

        async def gone() -> bool:
            return not await live_pods(client, "web") and \
                ("gone", "web-0") in log.deletions()
        await eventually(gone)
        # the highest ordinal first, each gone before the next is deleted
        assert log.deletions() == [("deleting", "web-2"), ("gone", "web-2"),
                                   ("deleting", "web-1"), ("gone", "web-1"),
                                   ("deleting", "web-0"), ("gone", "web-0")]


async def test_parallel_creates_every_pod_at_once(client: Client,
                                                  cluster: ControllerManager) -> None:
    # pods that never schedule, so never become ready: OrderedReady would stop at db-0
    await client.create(STS, statefulset("db", 3, podManagementPolicy="Parallel",
                                         template={"metadata": {"labels": {"app": "db"}},
                                                   "spec": {"containers": [
                                                       {"name": "app", "image": "nginx"}],
                                                       "nodeSelector": {"nowhere": "x"}}}),
                        namespace=NS)

    async def all_three() -> bool:
        return sorted(await live_pods(client, "db")) == ["db-0", "db-1", "db-2"]
    await eventually(all_three)


async def test_claims_are_made_from_templates_and_mounted(
        client: Client, cluster: ControllerManager) -> None:
    claim_template = {"metadata": {"name": "www"},
                      "spec": {"accessModes": ["ReadWriteOnce"],
                               "resources": {"requests": {"storage": "1Gi"}}}}
    await client.create(STS, statefulset(
        "data", 2, podManagementPolicy="Parallel", volumeClaimTemplates=[claim_template],
        persistentVolumeClaimRetentionPolicy={"whenDeleted": "Delete",
                                              "whenScaled": "Retain"}), namespace=NS)

    async def claims() -> list[Obj] | None:
        items = (await client.list("persistentvolumeclaims", namespace=NS))["items"]
        mine = sorted((c for c in items if c["metadata"]["name"].startswith("www-data-")),
                      key=lambda c: c["metadata"]["name"])
        return mine if len(mine) == 2 else None
    found = await eventually(claims)
    assert [c["metadata"]["name"] for c in found] == ["www-data-0", "www-data-1"]
    assert found[0]["metadata"]["labels"] == {"app": "data"}
    refs = found[0]["metadata"]["ownerReferences"]
    assert [(r["kind"], r["name"], r.get("controller")) for r in refs] == [
        ("StatefulSet", "data", False)]
    pods = await eventually(lambda: live_pods(client, "data"))
    volumes = (await client.get("pods", "data-0", namespace=NS))["spec"]["volumes"]
    assert {"name": "www", "persistentVolumeClaim": {"claimName": "www-data-0"}} in volumes
    assert pods


async def test_rolling_update_replaces_highest_first_down_to_the_partition(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(STS, statefulset("roll", 3), namespace=NS)
    first = await eventually(lambda: settled(client, "roll", 3))
    old = first["status"]["updateRevision"]
    await client.patch(STS, "roll", {"spec": {
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}},
        "template": {"spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}}},
        namespace=NS)
    order: list[str] = []

    async def rolled() -> bool:
        pods = await live_pods(client, "roll")
        s = await client.get(STS, "roll", namespace=NS)
        new = s["status"].get("updateRevision")
        for name, p in sorted(pods.items()):
            if new != old and p["metadata"]["labels"]["controller-revision-hash"] == new \
                    and name not in order:
                order.append(name)
        st = s["status"]
        return (st.get("observedGeneration") == s["metadata"]["generation"]
                and st.get("updatedReplicas") == 2 and st.get("readyReplicas") == 3)
    await eventually(rolled)
    assert order == ["roll-2", "roll-1"]
    pods = await live_pods(client, "roll")
    assert pods["roll-0"]["metadata"]["labels"]["controller-revision-hash"] == old
    s = await client.get(STS, "roll", namespace=NS)
    assert s["status"]["currentRevision"] == old and s["status"]["currentReplicas"] == 1
    revisions = (await client.list("controllerrevisions.apps", namespace=NS))["items"]
    mine = sorted((r["revision"], r["metadata"]["name"]) for r in revisions
                  if r["metadata"]["name"].startswith("roll-"))
    assert mine == [(1, old), (2, s["status"]["updateRevision"])]


async def test_on_delete_replaces_a_pod_only_when_it_is_deleted(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(STS, statefulset("od", 2, updateStrategy={"type": "OnDelete"}),
                        namespace=NS)
    first = await eventually(lambda: settled(client, "od", 2))
    old = first["status"]["updateRevision"]
    await client.patch(STS, "od", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:2"}]}}}}, namespace=NS)

    async def new_revision() -> str | None:
        s = await client.get(STS, "od", namespace=NS)
        st = s["status"]
        if st.get("observedGeneration") == s["metadata"]["generation"] \
                and st.get("updateRevision") != old:
            return str(st["updateRevision"])
        return None
    new = await eventually(new_revision)
    pods = await live_pods(client, "od")
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods.values()} == {old}
    await client.delete("pods", "od-0", namespace=NS)

    async def replaced() -> bool:
        pods = await live_pods(client, "od")
        return "od-0" in pods and \
            pods["od-0"]["metadata"]["labels"]["controller-revision-hash"] == new
    await eventually(replaced)
    pods = await live_pods(client, "od")
    assert pods["od-1"]["metadata"]["labels"]["controller-revision-hash"] == old


async def test_when_scaled_delete_removes_the_claims_of_condemned_ordinals(
        client: Client, cluster: ControllerManager) -> None:
    claim_template = {"metadata": {"name": "d"},
                      "spec": {"accessModes": ["ReadWriteOnce"],
                               "resources": {"requests": {"storage": "1Gi"}}}}
    await client.create(STS, statefulset(
        "sc", 3, podManagementPolicy="Parallel", volumeClaimTemplates=[claim_template],
        persistentVolumeClaimRetentionPolicy={"whenScaled": "Delete"}), namespace=NS)

    async def claim_names() -> list[str]:
        items = (await client.list("persistentvolumeclaims", namespace=NS))["items"]
        return sorted(c["metadata"]["name"] for c in items
                      if c["metadata"]["name"].startswith("d-sc-")
                      and not c["metadata"].get("deletionTimestamp"))

    async def three() -> bool:
        return await claim_names() == ["d-sc-0", "d-sc-1", "d-sc-2"] and \
            sorted(await live_pods(client, "sc")) == ["sc-0", "sc-1", "sc-2"]
    await eventually(three)
    await client.patch(STS, "sc", {"spec": {"replicas": 1}}, namespace=NS)

    async def one() -> bool:
        return await claim_names() == ["d-sc-0"] and \
            sorted(await live_pods(client, "sc")) == ["sc-0"]
    await eventually(one)


async def test_revision_history_beyond_the_limit_is_deleted(
        client: Client, cluster: ControllerManager) -> None:
    await client.create(STS, statefulset("hist", 1, revisionHistoryLimit=0), namespace=NS)
    await eventually(lambda: settled(client, "hist", 1))
    await client.patch(STS, "hist", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:2"}]}}}}, namespace=NS)

    async def only_the_new_one() -> list[tuple[int, str]] | None:
        s = await settled(client, "hist", 1)
        if s is None:
            return None
        items = (await client.list("controllerrevisions.apps", namespace=NS))["items"]
        mine = [(r["revision"], r["metadata"]["name"]) for r in items
                if r["metadata"]["name"].startswith("hist-")]
        return mine if mine == [(2, s["status"]["updateRevision"])] else None
    await eventually(only_the_new_one)
