"""DeleteOptions from the query, the body or both, checked with upstream's words."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import MultiDict, MultiDictProxy

from kubelite.machinery import errors
from kubelite.machinery.delete_options import DeleteOptions


def query(text: str) -> MultiDictProxy[str]:
    pairs = [tuple(p.split("=", 1)) if "=" in p else (p, "") for p in text.split("&") if p]
    return MultiDictProxy(MultiDict(pairs))


INVALID = [
    ("policy", "propagationPolicy=Later",
     'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: '
     '"Later": supported values: "Foreground", "Background", "Orphan", "nil"'),
    ("policy-and-orphan",
     "propagationPolicy=Orphan&orphanDependents=true",
     'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: "Orphan": '
     "orphanDependents and deletionPropagation cannot be both set"),
    ("dry-run", "dryRun=All&dryRun=Nope",
     'DeleteOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: '
     '[]string{"All", "Nope"}: supported values: "All"'),
    ("unsafe-with-grace",
     "ignoreStoreReadErrorWithClusterBreakingPotential=true&gracePeriodSeconds=0",
     'DeleteOptions.meta.k8s.io "" is invalid: ignoreStoreReadErrorWithClusterBreaking'
     "Potential: Invalid value: true: cannot be set together with .gracePeriodSeconds"),
]


@pytest.mark.parametrize("text,message", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_unacceptable_values_are_invalid_with_upstream_messages(text: str, message: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        DeleteOptions.parse(query(text))
    status = caught.value.to_status()
    assert status["message"] == message
    assert (status["code"], status["details"]["kind"]) == (422, "DeleteOptions")


def test_an_invalid_body_value_is_invalid_too() -> None:
    with pytest.raises(errors.Invalid):
        DeleteOptions.parse(query(""), {"propagationPolicy": "Later"})


def test_delete_options_merge_query_over_body_and_count_dry_run_from_both() -> None:
    body = {"gracePeriodSeconds": 30, "propagationPolicy": "Foreground", "dryRun": ["All"],
            "preconditions": {"uid": "u1"}}
    opts = DeleteOptions.parse(query("gracePeriodSeconds=0&dryRun=All"), body)
    assert opts.to_object() == {"gracePeriodSeconds": 0, "propagationPolicy": "Foreground",
                                "dryRun": ["All"], "preconditions": {"uid": "u1"}}


BAD_BODIES = [
    ("grace-as-string", {"gracePeriodSeconds": "10"},
     "json: cannot unmarshal string into Go struct field DeleteOptions.gracePeriodSeconds "
     "of type int64"),
    ("orphan-as-number", {"orphanDependents": 1},
     "json: cannot unmarshal number into Go struct field DeleteOptions.orphanDependents "
     "of type bool"),
    ("dry-run-as-string", {"dryRun": "All"},
     "json: cannot unmarshal string into Go struct field DeleteOptions.dryRun of type "
     "[]string"),
    ("not-an-object", ["x"], "json: cannot unmarshal array into Go value of type "
     "v1.DeleteOptions"),
]


@pytest.mark.parametrize("body,message", [c[1:] for c in BAD_BODIES],
                         ids=[c[0] for c in BAD_BODIES])
def test_a_mistyped_delete_options_body_is_a_bad_request(body: Any, message: str) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        DeleteOptions.parse(query(""), body)
    assert caught.value.message == message
