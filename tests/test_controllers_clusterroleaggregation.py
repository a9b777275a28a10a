"""The clusterrole-aggregation loop against a real in-process API server: the default
admin, edit and view roles gather the aggregate-to-* roles, and grow when a new one
appears."""

from __future__ import annotations

from typing import Any

from kubelite.client.rest import Client
from kubelite.controllers.clusterroleaggregation import ClusterRoleAggregationLoop
from tests.loops import run_loops
from tests.test_scheduler import eventually

WIDGETS = {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list"]}


async def rules_of(client: Client, name: str) -> list[dict[str, Any]]:
    return list((await client.get("clusterroles", name)).get("rules") or [])


async def test_admin_edit_and_view_gather_the_aggregate_to_roles(client: Client) -> None:
    async with run_loops(client, ClusterRoleAggregationLoop):
        pods_get = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}

        async def filled() -> bool:
            view, edit, admin = [await rules_of(client, n) for n in ("view", "edit", "admin")]
            return (any(r.get("resources") and "pods" in r["resources"] for r in view)
                    and len(edit) > len(view) and len(admin) > len(edit))
        await eventually(filled)
        assert pods_get["verbs"] == next(
            r["verbs"] for r in await rules_of(client, "view") if "pods" in r["resources"])

        await client.create("clusterroles", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "widget-viewer",
                         "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
            "rules": [WIDGETS]})

        async def has_widgets() -> bool:
            return all([WIDGETS in await rules_of(client, n) for n in ("view", "edit", "admin")])
        await eventually(has_widgets)
        view = await client.get("clusterroles", "view")
        managers = {m["manager"] for m in view["metadata"].get("managedFields") or []}
        assert "clusterrole-aggregation-controller" in managers

        await client.delete("clusterroles", "widget-viewer")

        async def no_widgets() -> bool:
            return all([WIDGETS not in await rules_of(client, n)
                        for n in ("view", "edit", "admin")])
        await eventually(no_widgets)
