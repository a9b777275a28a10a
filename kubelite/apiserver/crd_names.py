"""Which names a CRD may have, and the status it should have for them: the pure half
of apiextensions-apiserver's naming and establishing controllers
(pkg/controller/status/naming_controller.go, establish/establishing_controller.go).

A requested name is accepted when it is already this CRD's or no other CRD of the
group has accepted it; the last conflict found names the NamesAccepted reason, as
upstream's calculateNamesAndConditions does. Established turns True once the names
are accepted and is never taken back. Everything here reads dicts and returns new
ones: crd_controller.py's naming loop compares the answer with the CRD and writes
only a difference.
"""

from __future__ import annotations

import copy
from typing import Any

from kubelite.machinery.conditions import set_condition
from kubelite.machinery.timestamps import now_rfc3339

Obj = dict[str, Any]


def requested_names(crd: Obj) -> Obj:
    """spec.names with the defaults upstream fills in (singular, listKind)."""
    names: Obj = copy.deepcopy(crd["spec"]["names"])
    names.setdefault("singular", names["kind"].lower())
    names.setdefault("listKind", names["kind"] + "List")
    return names


def desired_status(crd: Obj, others: list[Obj]) -> Obj:
    """The status a live CRD should have, given the other CRDs: the names it may
    have, NamesAccepted, Established (once names are accepted; never taken back), and
    its storage versions added to storedVersions. Other conditions are kept."""
    status = copy.deepcopy(crd.get("status") or {})
    accepted, names_condition = accept_names(crd, others)
    status["acceptedNames"] = accepted
    conditions = set_condition(status.get("conditions") or [], names_condition)
    established = next((c for c in conditions if c.get("type") == "Established"), None)
    if established is None or established.get("status") != "True":
        if names_condition["status"] == "True":
            established = condition("Established", "True", "InitialNamesAccepted",
                                    "the initial names have been accepted")
        elif established is None:
            established = condition("Established", "False", "NotAccepted",
                                    "not all names are accepted")
        conditions = set_condition(conditions, established)
    status["conditions"] = conditions
    status["storedVersions"] = sorted(set(status.get("storedVersions") or []) | {
        v["name"] for v in crd["spec"].get("versions") or () if v.get("storage")})
    return status


def accept_names(crd: Obj, others: list[Obj]) -> tuple[Obj, Obj]:
    """(acceptedNames, NamesAccepted condition): each requested name is accepted if
    it is already this CRD's or no other CRD of the group has accepted it
    (calculateNamesAndConditions upstream; the last conflict found names the reason)."""
    group = crd["spec"]["group"]
    used_resources: set[str] = set()
    used_kinds: set[str] = set()
    for other in others:
        if (other.get("spec") or {}).get("group") != group:
            continue
        taken = (other.get("status") or {}).get("acceptedNames") or {}
        used_resources.update(n for n in (taken.get("plural"), taken.get("singular")) if n)
        used_resources.update(taken.get("shortNames") or ())
        used_kinds.update(n for n in (taken.get("kind"), taken.get("listKind")) if n)
    wanted = requested_names(crd)
    had: Obj = (crd.get("status") or {}).get("acceptedNames") or {}
    accepted = dict(had)
    conflict: tuple[str, str] | None = None

    def fresh(name: str, mine: str | None, used: set[str]) -> bool:
        return name == mine or name not in used

    for field, reason, used in (("plural", "PluralConflict", used_resources),
                                ("singular", "SingularConflict", used_resources)):
        if fresh(wanted[field], had.get(field), used):
            accepted[field] = wanted[field]
        else:
            conflict = (reason, f'"{wanted[field]}" is already in use')
    short = list(wanted.get("shortNames") or ())
    if short != list(had.get("shortNames") or ()):
        mine = set(had.get("shortNames") or ()) | {had.get("plural"), had.get("singular")}
        clashes = [f'"{s}" is already in use' for s in short
                   if s not in mine and s in used_resources]
        if clashes:
            conflict = ("ShortNamesConflict",
                        clashes[0] if len(clashes) == 1 else f"[{', '.join(clashes)}]")
        elif short:
            accepted["shortNames"] = short
        else:
            accepted.pop("shortNames", None)
    for field, reason in (("kind", "KindConflict"), ("listKind", "ListKindConflict")):
        if fresh(wanted[field], had.get(field), used_kinds):
            accepted[field] = wanted[field]
        else:
            conflict = (reason, f'"{wanted[field]}" is already in use')
    if wanted.get("categories"):
        accepted["categories"] = list(wanted["categories"])
    else:
        accepted.pop("categories", None)
    if conflict is None:
        names_accepted = condition("NamesAccepted", "True", "NoConflicts",
                                   "no conflicts found")
    else:
        names_accepted = condition("NamesAccepted", "False", *conflict)
    return accepted, names_accepted


def condition(type_: str, status: str, reason: str, message: str) -> Obj:
    return {"type": type_, "status": status, "lastTransitionTime": now_rfc3339(),
            "reason": reason, "message": message}
