"""Merging a profile's plugins with the defaults and placing them at each extension point,
checked against upstream's TestMergePlugins (default_plugins_test.go) and framework
construction (runtime/framework_test.go)."""

from __future__ import annotations

import pytest

from kubelite.scheduler.config_plugins import (
    MULTI_POINT, PluginRef, PluginSet, default_plugins, merge_plugin_set, merge_plugins,
    place_plugins)
from kubelite.scheduler.conftest import UPSTREAM_FILTER, UPSTREAM_SCORE, UPSTREAM_WEIGHTS, present
from kubelite.scheduler.plugins import DEFAULT_PLUGINS, REGISTRY

KNOWN = set(REGISTRY)

def refs(*entries: str | tuple[str, int]) -> list[PluginRef]:
    return [PluginRef(e) if isinstance(e, str) else PluginRef(e[0], e[1]) for e in entries]


def names(plugin_set: PluginSet) -> list[tuple[str, int | None]]:
    return [(r.name, r.weight) for r in plugin_set.enabled]


MERGES = [
    ("InsertAfterDefaultPlugins2",
     PluginSet(refs("D1", "D2")), PluginSet(refs("Custom", "D2"), ["D2"]),
     [("D1", None), ("Custom", None), ("D2", None)]),
    ("InsertBeforeAllPlugins",
     PluginSet(refs("D1", "D2")), PluginSet(refs("Custom", "D1", "D2"), ["*"]),
     [("Custom", None), ("D1", None), ("D2", None)]),
    ("ReorderDefaultPlugins",
     PluginSet(refs("D1", "D2")), PluginSet(refs("D2", "D1"), ["*"]),
     [("D2", None), ("D1", None)]),
    ("CustomPluginOverrideDefaultPlugin",
     PluginSet(refs("P1", "P2", "P3")), PluginSet(refs(("P1", 2), ("P3", 3))),
     [("P1", 2), ("P2", None), ("P3", 3)]),
    ("OrderPreserveAfterOverride",
     PluginSet(refs("P1", "P2", "P3")), PluginSet(refs(("P2", 2), ("P1", 1))),
     [("P1", 1), ("P2", 2), ("P3", None)]),
    ("RepeatedCustomPlugin",
     PluginSet(refs("P1", "P2", "P3")), PluginSet(refs("P1", ("P2", 2), "P3", ("P2", 4))),
     [("P1", None), ("P2", 4), ("P3", None), ("P2", 2)]),
    ("multipoint with only disabled gets merged",
     PluginSet(refs("D")), PluginSet([], ["D"]), []),
]


@pytest.mark.parametrize(("default", "custom", "want"), [m[1:] for m in MERGES],
                         ids=[m[0] for m in MERGES])
def test_merge_plugin_set_matches_upstream(default: PluginSet, custom: PluginSet,
                                           want: list[tuple[str, int | None]]) -> None:
    assert names(merge_plugin_set(default, custom)) == want


def test_defaults_are_upstreams_multi_point_set_ending_with_default_binder() -> None:
    multi = default_plugins()[MULTI_POINT]
    assert [r.name for r in multi.enabled] == [n for n, _ in DEFAULT_PLUGINS]
    assert multi.enabled[-1].name == "DefaultBinder"


def placed(custom: dict[str, PluginSet] | None) -> tuple[dict[str, list[str]], dict[str, int], list[str]]:
    placement = place_plugins(merge_plugins(custom), KNOWN, "p")
    return placement.points, placement.weights, placement.errors


def test_default_profile_places_each_plugin_where_it_has_the_method() -> None:
    points, weights, errors = placed(None)
    assert errors == []
    assert points["filter"] == present(UPSTREAM_FILTER)
    assert points["score"] == present(UPSTREAM_SCORE)
    assert (points["less"], points["bind"]) == (["PrioritySort"], ["DefaultBinder"])
    assert weights == {k: v for k, v in UPSTREAM_WEIGHTS.items() if k in KNOWN}


PLACEMENTS = [
    # a plugin named at a point comes first there, and its score weight wins
    ("score-override-first-with-its-weight",
     {"score": PluginSet(refs(("ImageLocality", 7)))},
     "score", present(UPSTREAM_SCORE, first=("ImageLocality",)), {"ImageLocality": 7}),
    ("disable-all-score-keeps-only-named",
     {"score": PluginSet(refs(("NodeResourcesFit", 5)), ["*"])},
     "score", ["NodeResourcesFit"], {"NodeResourcesFit": 5}),
    ("multipoint-disabled-at-one-point",
     {"score": PluginSet([], ["TaintToleration"])},
     "score", present(UPSTREAM_SCORE, without=("TaintToleration",)), {}),
    ("multipoint-weight-zero-means-one",
     {MULTI_POINT: PluginSet(refs(("TaintToleration", 0)))},
     "score", present(UPSTREAM_SCORE), {"TaintToleration": 1}),
    ("multipoint-disabled-everywhere",
     {MULTI_POINT: PluginSet([], ["NodeResourcesFit"])},
     "filter", present(UPSTREAM_FILTER, without=("NodeResourcesFit",)), {}),
]


@pytest.mark.parametrize(("custom", "point", "want", "some_weights"), [p[1:] for p in PLACEMENTS],
                         ids=[p[0] for p in PLACEMENTS])
def test_place_plugins(custom: dict[str, PluginSet], point: str, want: list[str],
                       some_weights: dict[str, int]) -> None:
    method = {"score": "score", "filter": "filter"}[point]
    points, weights, errors = placed(custom)
    assert errors == []
    assert points[method] == want
    assert {k: weights[k] for k in some_weights} == some_weights


PLACEMENT_ERRORS = [
    ("not-an-extension-of-the-point", {"score": PluginSet(refs("NodeName"))},
     ['plugin "NodeName" does not extend ScorePlugin plugin']),
    ("twice-at-one-point", {"filter": PluginSet(refs("NodePorts", "NodePorts"))},
     ['plugin "NodePorts" already registered as "FilterPlugin"']),
    ("no-queue-sort", {"queueSort": PluginSet([], ["*"]), MULTI_POINT: PluginSet([], ["PrioritySort"])},
     ['only one queue sort plugin required for profile with scheduler name "p", but got 0']),
    ("no-binder", {MULTI_POINT: PluginSet([], ["DefaultBinder"])},
     ['at least one bind plugin is needed for profile with scheduler name "p"']),
]


@pytest.mark.parametrize(("custom", "want"), [p[1:] for p in PLACEMENT_ERRORS],
                         ids=[p[0] for p in PLACEMENT_ERRORS])
def test_place_plugins_refuses_what_upstream_refuses(custom: dict[str, PluginSet],
                                                     want: list[str]) -> None:
    assert placed(custom)[2] == want
