"""The ClusterRole aggregation loop (upstream's pkg/controller/clusterroleaggregation).

A ClusterRole with an `aggregationRule` has as its rules the union of the rules of
every other ClusterRole its `clusterRoleSelectors` match, in name order, each rule
once: that is how `admin`, `edit` and `view` grow when a CRD's installer adds a
ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"`.

Any ClusterRole change may change what an aggregated role gathers, so every event
enqueues every aggregated ClusterRole (keys are names). The sync computes the union
from the lister and, when it differs from the role's rules, writes them by server-side
apply with field manager `clusterrole-aggregation-controller`, forced, as upstream does.
A selector that cannot be parsed is an error retried with backoff.
"""

from __future__ import annotations

from typing import Any

from kubelite.client.controller import Controller
from kubelite.controllers.context import LoopContext
from kubelite.machinery import labels

Obj = dict[str, Any]
FIELD_MANAGER = "clusterrole-aggregation-controller"


def aggregated_rules(role: Obj, candidates: list[Obj]) -> list[Obj] | None:
    """The rules the aggregated role should have; None if it has no aggregationRule."""
    rule = role.get("aggregationRule")
    if rule is None:
        return None
    name = (role.get("metadata") or {}).get("name")
    rules: list[Obj] = []
    for selector_doc in rule.get("clusterRoleSelectors") or ():
        selector = labels.selector_from_label_selector(selector_doc)
        matched = sorted((c for c in candidates
                          if selector.matches((c.get("metadata") or {}).get("labels") or {})),
                         key=lambda c: str((c.get("metadata") or {}).get("name") or ""))
        for other in matched:
            if (other.get("metadata") or {}).get("name") == name:
                continue
            rules.extend(r for r in other.get("rules") or () if r not in rules)
    return rules


class ClusterRoleAggregationLoop:
    name = "clusterrole-aggregation"

    def __init__(self, ctx: LoopContext) -> None:
        self.client = ctx.client
        self.controller: Controller[str] = Controller(self.name, self.sync, workers=1)
        self.roles = ctx.informers.informer("clusterroles")
        self.roles.add_event_handler(on_add=self._changed,
                                     on_update=lambda _old, new: self._changed(new),
                                     on_delete=self._changed)

    async def run(self) -> None:
        await self.controller.run()

    def _changed(self, _role: Obj) -> None:
        for role in self.roles.lister.list():
            if role.get("aggregationRule") is not None:
                self.controller.enqueue(str((role.get("metadata") or {}).get("name") or ""))

    async def sync(self, name: str) -> None:
        role = self.roles.lister.get("", name)
        if role is None:
            return
        rules = aggregated_rules(role, self.roles.lister.list())
        if rules is None or rules == (role.get("rules") or []):
            return
        await self.client.apply("clusterroles", {
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": name}, "rules": rules}, field_manager=FIELD_MANAGER, force=True)
