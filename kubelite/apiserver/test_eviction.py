"""pods/eviction against the in-process API server, checked against upstream's
eviction_test.go outcomes: which budget status lets an eviction through, what it
writes, and what a refusal looks like."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.conftest import Call
from kubelite.client.rest import Client

Obj = dict[str, Any]
NS = "default"
PODS = f"/api/v1/namespaces/{NS}/pods"
PDBS = f"/apis/policy/v1/namespaces/{NS}/poddisruptionbudgets"


async def running_pod(client: Client, name: str, *, ready: bool = True,
                      phase: str = "Running", labels: Obj | None = None) -> Obj:
    pod = await client.create("pods", {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": labels if labels is not None else {"app": "web"}},
        # bound: an unbound pod's deletion is immediate, a bound one's graceful
        "spec": {"nodeName": "node-1", "containers": [{"name": "c", "image": "nginx"}]}},
        namespace=NS)
    pod["status"] = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False"}]}
    written: Obj = await client.update_status("pods", pod, namespace=NS)
    return written


async def budget(client: Client, status: Obj, *, name: str = "web", **spec: Any) -> Obj:
    pdb = await client.create("poddisruptionbudgets.policy", {
        "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}, **spec}},
        namespace=NS)
    pdb["status"] = {"observedGeneration": pdb["metadata"]["generation"], "currentHealthy": 0,
                     "desiredHealthy": 0, "expectedPods": 0, "disruptionsAllowed": 0, **status}
    written: Obj = await client.update_status("poddisruptionbudgets.policy", pdb, namespace=NS)
    return written


def eviction(name: str, **delete_options: Any) -> Obj:
    body: Obj = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name}}
    if delete_options:
        body["deleteOptions"] = delete_options
    return body


async def evict(call: Call, name: str, **delete_options: Any) -> tuple[int, Obj]:
    code, body = await call("POST", f"{PODS}/{name}/eviction", body=eviction(name, **delete_options))
    return code, body


async def test_an_allowed_eviction_uses_a_disruption_and_marks_the_pod(
        client: Client, call: Call) -> None:
    await running_pod(client, "a")
    await budget(client, {"disruptionsAllowed": 2, "currentHealthy": 3, "desiredHealthy": 1})
    code, _ = await evict(call, "a")
    assert code == 201
    pdb = await client.get("poddisruptionbudgets.policy", "web", namespace=NS)
    assert pdb["status"]["disruptionsAllowed"] == 1
    assert list(pdb["status"]["disruptedPods"]) == ["a"]
    pod = await client.get("pods", "a", namespace=NS)  # graceful: still there, terminating
    assert pod["metadata"].get("deletionTimestamp")
    target = [c for c in pod["status"]["conditions"] if c["type"] == "DisruptionTarget"]
    assert [(c["status"], c["reason"], c["message"]) for c in target] == [
        ("True", "EvictionByEvictionAPI", "Eviction API: evicting")]


async def test_using_the_last_disruption_turns_the_condition_false(
        client: Client, call: Call) -> None:
    await running_pod(client, "a")
    await budget(client, {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1,
                          "conditions": [{"type": "DisruptionAllowed", "status": "True",
                                          "reason": "SufficientPods", "message": "",
                                          "lastTransitionTime": "2026-01-01T00:00:00Z"}]})
    assert (await evict(call, "a"))[0] == 201
    pdb = await client.get("poddisruptionbudgets.policy", "web", namespace=NS)
    assert [(c["status"], c["reason"]) for c in pdb["status"]["conditions"]] == [
        ("False", "InsufficientPods")]


@pytest.mark.parametrize("status,generation_bump,code,cause", [
    ({"disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1}, False, 429,
     "The disruption budget web needs 1 healthy pods and has 1 currently"),
    ({"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1}, True, 429,
     "The disruption budget web is still being processed by the server."),
    ({"disruptionsAllowed": -1}, False, 403, None),
    ({"disruptionsAllowed": 1, "disruptedPods": {f"p{i}": "2026-01-01T00:00:00Z"
                                                 for i in range(2001)}}, False, 403, None),
], ids=["no-disruption-left", "status-older-than-spec", "negative", "too-many-pending"])
async def test_refused_evictions_leave_the_pod_alone(
        client: Client, call: Call, status: Obj, generation_bump: bool, code: int,
        cause: str | None) -> None:
    await running_pod(client, "a")
    await budget(client, status)
    if generation_bump:
        await client.patch("poddisruptionbudgets.policy", "web", {"spec": {"minAvailable": 2}},
                           namespace=NS)
    got, body = await evict(call, "a")
    assert got == code, body
    if code == 429:
        assert body["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
        assert body["details"]["causes"] == [{"reason": "DisruptionBudget", "message": cause}]
    pod = await client.get("pods", "a", namespace=NS)
    assert not pod["metadata"].get("deletionTimestamp")
    assert all(c["type"] != "DisruptionTarget" for c in pod["status"]["conditions"])


@pytest.mark.parametrize("policy,status,code", [
    (None, {"currentHealthy": 2, "desiredHealthy": 2}, 201),
    (None, {"currentHealthy": 1, "desiredHealthy": 2}, 429),
    ("IfHealthyBudget", {"currentHealthy": 1, "desiredHealthy": 2}, 429),
    ("AlwaysAllow", {"currentHealthy": 1, "desiredHealthy": 2}, 201),
], ids=["healthy-budget", "unhealthy-budget", "if-healthy-unhealthy", "always-allow"])
async def test_an_unready_pod_goes_without_using_a_disruption_when_policy_allows(
        client: Client, call: Call, policy: str | None, status: Obj, code: int) -> None:
    await running_pod(client, "a", ready=False)
    spec = {"unhealthyPodEvictionPolicy": policy} if policy else {}
    await budget(client, {"disruptionsAllowed": 0, **status}, **spec)
    assert (await evict(call, "a"))[0] == code
    pdb = await client.get("poddisruptionbudgets.policy", "web", namespace=NS)
    assert pdb["status"]["disruptionsAllowed"] == 0 and not pdb["status"].get("disruptedPods")


@pytest.mark.parametrize("phase", ["Pending", "Succeeded", "Failed"])
async def test_pods_not_running_are_deleted_without_asking_the_budget(
        client: Client, call: Call, phase: str) -> None:
    await running_pod(client, "a", phase=phase)
    await budget(client, {"disruptionsAllowed": 0})
    assert (await evict(call, "a"))[0] == 201
    pods = (await client.list("pods", namespace=NS))["items"]
    # a finished pod's deletion is immediate, a pending bound one's graceful
    assert all(p["metadata"].get("deletionTimestamp") for p in pods)
    assert len(pods) == (1 if phase == "Pending" else 0)


async def test_two_budgets_are_refused_and_other_labels_are_not_protected(
        client: Client, call: Call) -> None:
    await running_pod(client, "a")
    await running_pod(client, "b", labels={"app": "other"})
    await budget(client, {"disruptionsAllowed": 5})
    await budget(client, {"disruptionsAllowed": 5}, name="web2")
    code, body = await evict(call, "a")
    assert (code, body["message"]) == (500, "This pod has more than one PodDisruptionBudget, "
                                             "which the eviction subresource does not support.")
    assert (await evict(call, "b"))[0] == 201


async def test_a_stale_resource_version_precondition_is_a_conflict(
        client: Client, call: Call) -> None:
    pod = await running_pod(client, "a")
    # as upstream, the refused delete has used a disruption already (it expires unused)
    await budget(client, {"disruptionsAllowed": 2, "currentHealthy": 3, "desiredHealthy": 1})
    code, _ = await evict(call, "a", preconditions={"resourceVersion": "1"})
    assert code == 409
    code, _ = await evict(call, "a", preconditions={
        "resourceVersion": pod["metadata"]["resourceVersion"]})
    assert code == 201


async def test_dry_run_changes_nothing(client: Client, call: Call) -> None:
    await running_pod(client, "a")
    await budget(client, {"disruptionsAllowed": 1, "currentHealthy": 2, "desiredHealthy": 1})
    assert (await evict(call, "a", dryRun=["All"]))[0] == 201
    pdb = await client.get("poddisruptionbudgets.policy", "web", namespace=NS)
    assert pdb["status"]["disruptionsAllowed"] == 1 and not pdb["status"].get("disruptedPods")
    pod = await client.get("pods", "a", namespace=NS)
    assert not pod["metadata"].get("deletionTimestamp")
