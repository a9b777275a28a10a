"""pods/<name>/eviction: delete a pod unless its PodDisruptionBudget forbids it
(upstream's pkg/registry/core/pod/storage/eviction.go).

    pod not running (Pending, Succeeded, Failed) or already being deleted:
        deleted at once, no budget asked (a Pending pod's deletion carries its
        resourceVersion as precondition, so one that started running meanwhile is
        looked at again)
    otherwise, the budgets in its namespace whose selector matches its labels:
        none            deleted
        more than one   500 "This pod has more than one PodDisruptionBudget, ..."
        one, pod not Ready, and the budget's unhealthyPodEvictionPolicy is AlwaysAllow
        or the budget is healthy (currentHealthy >= desiredHealthy > 0): deleted
        without using a disruption, its resourceVersion a precondition (a pod that
        turned Ready meanwhile gets 429, and the client retries)
        one, otherwise: check and decrement, in one read-modify-write of the budget's
        status (a concurrent eviction makes it read again):
            status older than the spec (observedGeneration < generation)   429
            disruptionsAllowed < 0, or more than 2000 disruptedPods       403
            disruptionsAllowed == 0      429 "Cannot evict pod as it would violate the
                                         pod's disruption budget." with a
                                         DisruptionBudget cause "needs N healthy pods
                                         and has M currently"
            else disruptionsAllowed - 1 (DisruptionAllowed turns False at 0) and the
            pod's name into disruptedPods with the time, which the disruption loop
            counts as gone until it sees the deletion (or 2 minutes pass)
    deletion: the pod first gets DisruptionTarget=True (EvictionByEvictionAPI,
    "Eviction API: evicting") in its status, then the delete with the caller's options
    (a resourceVersion precondition moved past that status write). Dry-run writes
    neither the budget nor the condition.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubelite.api.catalogue import GVK
from kubelite.apiserver.admission.chain import Attributes, Operation
from kubelite.apiserver.negotiation import Accept
from kubelite.apiserver.options import write_options
from kubelite.apiserver.registry.store import Store, WriteOptions
from kubelite.apiserver.responses import object_response
from kubelite.apiserver.routing import RequestInfo
from kubelite.apiserver.validation import decode_subresource_body
from kubelite.machinery import errors
from kubelite.machinery.delete_options import DeleteOptions
from kubelite.machinery.labels import selector_from_label_selector
from kubelite.machinery.options import CreateOptions
from kubelite.machinery.timestamps import now_rfc3339

Obj = dict[str, Any]

MAX_DISRUPTED_POD_SIZE = 2000
EVICTION_RETRIES = 20  # upstream's EvictionsRetry steps
VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget."
DISRUPTION_BUDGET_CAUSE = "DisruptionBudget"


def can_ignore_budgets(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    return phase in ("Pending", "Succeeded", "Failed") or \
        bool(pod["metadata"].get("deletionTimestamp"))


def should_enforce_resource_version(pod: Obj) -> bool:
    """A pod not finished nor being deleted might turn Ready between our read and our
    delete: pin the delete to what was read."""
    phase = (pod.get("status") or {}).get("phase")
    return phase not in ("Succeeded", "Failed") and \
        not pod["metadata"].get("deletionTimestamp")


def is_ready(pod: Obj) -> bool:
    return any(isinstance(c, dict) and c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or ())


def still_processing(name: str) -> errors.TooManyRequests:
    return errors.TooManyRequests(VIOLATES_BUDGET, retry_after=10, causes=(errors.Cause(
        DISRUPTION_BUDGET_CAUSE,
        f"The disruption budget {name} is still being processed by the server."),))


def _forbidden(name: str, why: str) -> errors.Forbidden:
    return errors.Forbidden(f'poddisruptionbudget.policy "{name}" is forbidden: {why}',
                            group="policy", kind="poddisruptionbudget", name=name)


def check_and_decrement(budget: Obj, pod_name: str, now: str, *, dry_run: bool) -> Obj:
    """The budget with one disruption used for `pod_name` (upstream's checkAndDecrement),
    or the error that refuses the eviction."""
    name = budget["metadata"]["name"]
    status = budget.setdefault("status", {})
    allowed = int(status.get("disruptionsAllowed") or 0)
    if int(status.get("observedGeneration") or 0) < int(budget["metadata"].get("generation")
                                                          or 0):
        raise still_processing(name)
    if allowed < 0:
        raise _forbidden(name, "pdb disruptions allowed is negative")
    if len(status.get("disruptedPods") or {}) > MAX_DISRUPTED_POD_SIZE:
        raise _forbidden(name, "DisruptedPods map too big - too many evictions not "
                               "confirmed by PDB controller")
    if allowed == 0:
        raise errors.TooManyRequests(VIOLATES_BUDGET, causes=(errors.Cause(
            DISRUPTION_BUDGET_CAUSE,
            f"The disruption budget {name} needs {status.get('desiredHealthy', 0)} healthy "
            f"pods and has {status.get('currentHealthy', 0)} currently"),))
    status["disruptionsAllowed"] = allowed - 1
    if allowed - 1 == 0:
        _insufficient_pods(status, now)
    if not dry_run:
        status["disruptedPods"] = {**(status.get("disruptedPods") or {}), pod_name: now}
    return budget


def _insufficient_pods(status: Obj, now: str) -> None:
    """DisruptionAllowed False / InsufficientPods, as the disruption loop would say."""
    conditions = [c for c in status.get("conditions") or ()
                  if not (isinstance(c, dict) and c.get("type") == "DisruptionAllowed")]
    old = next((c for c in status.get("conditions") or ()
                if isinstance(c, dict) and c.get("type") == "DisruptionAllowed"), None)
    since = old.get("lastTransitionTime") if old and old.get("status") == "False" else now
    conditions.append({"type": "DisruptionAllowed", "status": "False",
                       "reason": "InsufficientPods", "message": "",
                       "observedGeneration": int(status.get("observedGeneration") or 0),
                       "lastTransitionTime": since or now})
    status["conditions"] = conditions


def matching_budgets(store: Store, pod: Obj) -> list[Obj]:
    """The budgets in the pod's namespace whose selector matches its labels; an invalid
    selector matches nothing."""
    budgets = store.registry.store_for("policy", "poddisruptionbudgets")
    pod_labels = pod["metadata"].get("labels") or {}
    prefix = budgets.key_prefix(pod["metadata"]["namespace"])
    out = []
    for key, entry in store.cache.bucket(budgets.prefix).items():
        if not key.startswith(prefix):
            continue
        try:
            selector = selector_from_label_selector((entry.obj.get("spec") or {}).get("selector"))
        except errors.StatusError:
            continue
        if selector.matches(pod_labels):
            out.append(entry.obj)
    return out


async def create_eviction(request: web.Request, info: RequestInfo, store: Store,
                          accept: Accept) -> web.StreamResponse:
    options = CreateOptions.parse(request.query)
    eviction = decode_subresource_body(await request.read(),
                                       request.headers.get("Content-Type", ""),
                                       GVK("policy", "v1", "Eviction"))
    named = (eviction.get("metadata") or {}).get("name")
    if named and named != info.name:
        raise errors.BadRequest("name in URL does not match name in Eviction object")
    delete_options = DeleteOptions.parse(body=eviction.get("deleteOptions"))
    if delete_options.dry_run and options.dry_run and \
            tuple(delete_options.dry_run) != tuple(options.dry_run):
        raise errors.BadRequest(f"Non-matching dry-run options in request and content: "
                                f"{list(options.dry_run)} and {list(delete_options.dry_run)}")
    opts = write_options(request, info, options)
    opts.dry_run = opts.dry_run or bool(delete_options.dry_run)
    # admitted as a create of pods/eviction, as upstream's handler does (NodeRestriction
    # lets a node evict only the pods bound to it)
    await store.admission.admit(Attributes(store.spec, Operation.CREATE, info.namespace,
                                           info.name, eviction, subresource="eviction",
                                           dry_run=opts.dry_run, user=opts.user))
    opts.subresource = ""
    delete_object = delete_options.to_object()
    await _evict(store, info, delete_object, opts)
    return object_response({"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Success", "code": 201}, accept, 201)


def _preconditions(options: Obj) -> Obj:
    return dict(options.get("preconditions") or {})


def _pinned(options: Obj, pod: Obj) -> Obj:
    return {**options, "preconditions": {**_preconditions(options),
                                         "resourceVersion": pod["metadata"]["resourceVersion"]}}


async def _evict(store: Store, info: RequestInfo, options: Obj, opts: WriteOptions) -> None:
    caller_pinned = bool(_preconditions(options).get("resourceVersion"))
    for attempt in range(EVICTION_RETRIES):
        pod = (await store.get(info.namespace, info.name)).obj
        if not can_ignore_budgets(pod):
            break
        wanted = _pinned(options, pod) if should_enforce_resource_version(pod) \
            and not caller_pinned else options
        try:
            await _mark_and_delete(store, info, wanted, opts)
            return
        except errors.Conflict:
            if caller_pinned or attempt == EVICTION_RETRIES - 1:
                raise  # the caller's own precondition: theirs to retry
    budgets = matching_budgets(store, pod)
    if len(budgets) > 1:
        raise errors.InternalError("This pod has more than one PodDisruptionBudget, which "
                                   "the eviction subresource does not support.")
    pinned = False
    if budgets:
        budget = budgets[0]
        policy = (budget.get("spec") or {}).get("unhealthyPodEvictionPolicy")
        status = budget.get("status") or {}
        healthy_budget = int(status.get("currentHealthy") or 0) >= \
            int(status.get("desiredHealthy") or 0) > 0
        if not is_ready(pod) and (policy == "AlwaysAllow" or healthy_budget):
            pinned = True  # an unready pod goes without using a disruption
        else:
            await _use_disruption(store, budget, pod, opts)
    try:
        await _mark_and_delete(store, info, _pinned(options, pod) if pinned else options, opts)
    except errors.Conflict:
        if pinned and not caller_pinned:
            raise still_processing(budgets[0]["metadata"]["name"]) from None
        raise


async def _use_disruption(store: Store, budget: Obj, pod: Obj, opts: WriteOptions) -> None:
    budgets = store.registry.store_for("policy", "poddisruptionbudgets")
    namespace, name = budget["metadata"]["namespace"], budget["metadata"]["name"]
    pod_name = pod["metadata"]["name"]
    if opts.dry_run:
        current = (await budgets.get(namespace, name)).obj
        check_and_decrement(dict(current, status=dict(current.get("status") or {})),
                            pod_name, now_rfc3339(), dry_run=True)
        return

    async def use_one(current: Obj) -> Obj:
        return check_and_decrement(current, pod_name, now_rfc3339(), dry_run=False)

    await budgets.guaranteed_update(namespace, name, use_one, WriteOptions(
        field_manager=opts.field_manager, subresource="status"))


async def _mark_and_delete(store: Store, info: RequestInfo, options: Obj,
                           opts: WriteOptions) -> None:
    """DisruptionTarget=True on the pod, then the delete (upstream's
    addConditionAndDeletePod)."""
    if not opts.dry_run:
        pre = _preconditions(options)

        async def add_condition(pod: Obj) -> Obj:
            meta = pod["metadata"]
            if pre.get("uid") and pre["uid"] != meta.get("uid"):
                raise errors.conflict("", "Pod", info.name, (
                    f"the UID in the precondition ({pre['uid']}) does not match the UID in "
                    f"record ({meta.get('uid')}). The object might have been deleted and "
                    "then recreated"))
            if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get(
                    "resourceVersion"):
                raise errors.conflict("", "Pod", info.name, (
                    f"the ResourceVersion in the precondition ({pre['resourceVersion']}) does "
                    f"not match the ResourceVersion in record ({meta.get('resourceVersion')})."
                    " The object might have been modified"))
            status = pod.setdefault("status", {})
            status["conditions"] = _with_disruption_target(status.get("conditions") or [])
            return pod

        updated, _ = await store.guaranteed_update(info.namespace, info.name, add_condition,
                                                   WriteOptions(field_manager=opts.field_manager,
                                                                subresource="status"))
        if pre.get("resourceVersion"):
            # the status write above is ours: the precondition moves past it
            options = {**options, "preconditions": {
                **pre, "resourceVersion": updated["metadata"]["resourceVersion"]}}
    await store.delete(info.namespace, info.name, options, opts)


def _with_disruption_target(conditions: list[Obj]) -> list[Obj]:
    """UpdatePodCondition with DisruptionTarget=True, EvictionByEvictionAPI."""
    new = {"type": "DisruptionTarget", "status": "True", "reason": "EvictionByEvictionAPI",
           "message": "Eviction API: evicting", "lastProbeTime": None,
           "lastTransitionTime": now_rfc3339()}
    out = []
    for old in conditions:
        if isinstance(old, dict) and old.get("type") == new["type"]:
            if old.get("status") == new["status"] and old.get("lastTransitionTime"):
                new["lastTransitionTime"] = old["lastTransitionTime"]
            continue
        out.append(old)
    out.append(new)
    return out
