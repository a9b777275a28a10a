"""Which names a CRD is given beside the other CRDs of its group, and the conditions that
follow (upstream's naming_controller_test.go cases)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.apiserver.crd_names import accept_names, desired_status

Obj = dict[str, Any]


def crd(plural: str, kind: str, group: str = "example.com", accepted: Obj | None = None,
        conditions: list[Obj] | None = None, **names: Any) -> Obj:
    status: Obj = {}
    if accepted is not None:
        status["acceptedNames"] = accepted
    if conditions is not None:
        status["conditions"] = conditions
    return {"metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "names": {"plural": plural, "kind": kind, **names},
                     "versions": [{"name": "v1", "served": True, "storage": True}]},
            "status": status}


WIDGETS = crd("widgets", "Widget", accepted={
    "plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList",
    "shortNames": ["wd"]})


@pytest.mark.parametrize("names, reason, message", [
    ({}, "NoConflicts", "no conflicts found"),
    ({"singular": "widget"}, "SingularConflict", '"widget" is already in use'),
    ({"shortNames": ["wd", "gd"]}, "ShortNamesConflict", '"wd" is already in use'),
    ({"shortNames": ["wd", "widgets"]}, "ShortNamesConflict",
     '["wd" is already in use, "widgets" is already in use]'),
    ({"listKind": "WidgetList"}, "ListKindConflict", '"WidgetList" is already in use'),
], ids=["free", "singular", "short-name", "two-short-names", "list-kind"])
def test_a_name_another_crd_of_the_group_accepted_is_refused(names: Obj, reason: str,
                                                             message: str) -> None:
    gadgets = crd("gadgets", "Gadget", **names)
    accepted, condition = accept_names(gadgets, [WIDGETS])
    assert (condition["reason"], condition["message"]) == (reason, message)
    assert condition["status"] == ("True" if reason == "NoConflicts" else "False")
    assert accepted["plural"] == "gadgets"  # what is free is accepted all the same


def test_names_of_another_group_or_already_ours_do_not_conflict() -> None:
    elsewhere = crd("widgets", "Widget", group="example.org")
    assert accept_names(elsewhere, [WIDGETS])[1]["status"] == "True"
    again = crd("widgets", "Widget", accepted=WIDGETS["status"]["acceptedNames"],
                shortNames=["wd"])
    accepted, condition = accept_names(again, [])
    assert condition["status"] == "True" and accepted["shortNames"] == ["wd"]


def test_established_follows_accepted_names_and_is_never_taken_back() -> None:
    status = desired_status(crd("gadgets", "Gadget"), [WIDGETS])
    established = {c["type"]: c for c in status["conditions"]}["Established"]
    assert (established["status"], established["reason"]) == ("True", "InitialNamesAccepted")
    assert status["storedVersions"] == ["v1"]
    # Names refused later (another CRD took one meanwhile): Established stays True.
    later = crd("gadgets", "Gadget", accepted=status["acceptedNames"],
                conditions=status["conditions"], singular="widget")
    again = {c["type"]: c for c in desired_status(later, [WIDGETS])["conditions"]}
    assert again["NamesAccepted"]["status"] == "False"
    assert again["Established"]["status"] == "True"
