from __future__ import annotations

import pytest

from kubelite.machinery.conditions import Obj, set_condition

OLD = {"type": "Ready", "status": "True", "lastTransitionTime": "t0", "reason": "A",
       "message": "a"}


@pytest.mark.parametrize(("conditions", "new", "expected"), [
    ([], {**OLD, "lastTransitionTime": "t1"}, [{**OLD, "lastTransitionTime": "t1"}]),
    ([OLD], {**OLD, "lastTransitionTime": "t1"}, [OLD]),
    ([OLD], {**OLD, "reason": "B", "message": "b", "lastTransitionTime": "t1"},
     [{**OLD, "reason": "B", "message": "b"}]),
    ([OLD], {**OLD, "status": "False", "lastTransitionTime": "t1"},
     [{**OLD, "status": "False", "lastTransitionTime": "t1"}]),
    ([{"type": "Other", "status": "True"}, OLD], {**OLD, "status": "False",
                                                   "lastTransitionTime": "t1"},
     [{"type": "Other", "status": "True"}, {**OLD, "status": "False",
                                             "lastTransitionTime": "t1"}]),
], ids=["appended", "unchanged-kept", "same-status-keeps-transition-time",
        "new-status-new-transition-time", "others-untouched-order-kept"])
def test_set_condition(conditions: list[Obj], new: Obj, expected: list[Obj]) -> None:
    before = [dict(c) for c in conditions]
    assert set_condition(conditions, new) == expected
    assert conditions == before  # the input list and its conditions are not changed
