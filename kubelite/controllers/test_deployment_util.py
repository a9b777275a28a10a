from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.deployment_util import (
    DESIRED_REPLICAS, MAX_REPLICAS, REVISION, REVISION_HISTORY, compute_hash,
    equal_ignore_hash, find_active_or_latest, find_new_rs, find_old_rss, fnv32a,
    max_unavailable, new_rs_new_replicas, resolve_fenceposts, safe_encode, scaled_value,
    set_new_rs_annotations)

Obj = dict[str, Any]
TEMPLATE: Obj = {"metadata": {"labels": {"app": "web"}},
                 "spec": {"containers": [{"name": "app", "image": "nginx"}]}}


def deployment(replicas: int = 10, surge: Any = "25%", unavailable: Any = "25%",
               kind: str = "RollingUpdate", **annotations: str) -> Obj:
    strategy: Obj = {"type": kind}
    if kind == "RollingUpdate":
        strategy["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": unavailable}
    return {"metadata": {"name": "web", "annotations": dict(annotations)},
            "spec": {"replicas": replicas, "strategy": strategy, "template": TEMPLATE}}


def rs(name: str, replicas: int, created: str = "2016-05-20T00:00:00Z",
       template: Obj | None = None, **annotations: str) -> Obj:
    return {"metadata": {"name": name, "uid": name, "creationTimestamp": created,
                         "annotations": dict(annotations)},
            "spec": {"replicas": replicas, "template": template or TEMPLATE}}


def test_fnv32a_matches_the_reference_vectors() -> None:
    assert (fnv32a(b""), fnv32a(b"a"), fnv32a(b"foobar")) == (0x811C9DC5, 0xE40C292C, 0xBF9CF968)


def test_safe_encode_maps_digits_as_upstream() -> None:
    # each byte modulo 27 into "bcdfghjklmnpqrstvwxz2456789": '1' is 49, 49 % 27 = 22
    assert safe_encode("1234567890") == "56789bcdf4"
    assert set(compute_hash(TEMPLATE)) <= set("bcdfghjklmnpqrstvwxz2456789")


def test_the_hash_is_stable_and_moves_with_template_and_collision_count() -> None:
    other = {**TEMPLATE, "spec": {"containers": [{"name": "app", "image": "nginx:2"}]}}
    hashes = {compute_hash(TEMPLATE), compute_hash(TEMPLATE, 0), compute_hash(TEMPLATE, 1),
              compute_hash(other)}
    assert len(hashes) == 4
    assert compute_hash(TEMPLATE, 1) == compute_hash(dict(reversed(list(TEMPLATE.items()))), 1)
    assert 8 <= len(compute_hash(TEMPLATE)) <= 10  # the decimal digits of a uint32


@pytest.mark.parametrize("value, total, up, want", [
    pytest.param(3, 10, True, 3, id="int"),
    pytest.param("25%", 10, True, 3, id="percent-up"),
    pytest.param("25%", 10, False, 2, id="percent-down"),
    pytest.param("0%", 10, True, 0, id="zero-percent"),
    pytest.param("100%", 7, False, 7, id="all"),
])
def test_scaled_value(value: Any, total: int, up: bool, want: int) -> None:
    assert scaled_value(value, total, up) == want


@pytest.mark.parametrize("surge, unavailable, desired, want", [
    # upstream's TestResolveFenceposts
    pytest.param(0, 0, 0, (0, 1), id="both-zero-means-one-unavailable"),
    pytest.param("39%", "39%", 10, (4, 3), id="percents-round-apart"),
    pytest.param(None, "39%", 10, (0, 3), id="no-surge"),
    pytest.param("39%", None, 10, (4, 0), id="no-unavailable"),
    pytest.param(None, None, 10, (0, 1), id="neither"),
])
def test_resolve_fenceposts(surge: Any, unavailable: Any, desired: int,
                            want: tuple[int, int]) -> None:
    assert resolve_fenceposts(surge, unavailable, desired) == want


@pytest.mark.parametrize("surge, unavailable", [
    pytest.param("oops", "39%", id="bad-surge"), pytest.param("55%", "urg", id="bad-unavailable")])
def test_resolve_fenceposts_refuses_garbage(surge: Any, unavailable: Any) -> None:
    with pytest.raises(ValueError, match="invalid value for IntOrString"):
        resolve_fenceposts(surge, unavailable, 10)


@pytest.mark.parametrize("d, want", [
    # upstream's TestMaxUnavailable
    pytest.param(deployment(10, 0, "20%"), 2, id="percent"),
    pytest.param(deployment(10, 0, 10), 10, id="all"),
    pytest.param(deployment(10, 0, 20), 10, id="capped-at-replicas"),
    pytest.param(deployment(0, 0, 10), 0, id="zero-replicas"),
    pytest.param(deployment(10, kind="Recreate"), 0, id="recreate"),
])
def test_max_unavailable(d: Obj, want: int) -> None:
    assert max_unavailable(d) == want


@pytest.mark.parametrize("kind, desired, new, surge, old, want", [
    # upstream's TestNewRSNewReplicas
    pytest.param("RollingUpdate", 1, 5, 1, 5, 5, id="cannot-scale-up"),
    pytest.param("RollingUpdate", 6, 2, 10, 3, 6, id="up-to-replicas"),
    pytest.param("Recreate", 3, 1, 1, 1, 3, id="recreate-to-replicas"),
])
def test_new_rs_new_replicas(kind: str, desired: int, new: int, surge: int, old: int,
                             want: int) -> None:
    d = deployment(desired, surge, 0, kind=kind)
    new_rs, old_rs = rs("new", new), rs("old", old)
    assert new_rs_new_replicas(d, [new_rs, old_rs], new_rs) == want


def test_a_new_replica_set_gets_revision_and_size_annotations() -> None:
    d = deployment(10, 3, 0, **{"kubernetes.io/change-cause": "kubectl set image",
                                "kubectl.kubernetes.io/last-applied-configuration": "{}"})
    new = rs("new", 0)
    assert set_new_rs_annotations(d, new, 2, exists=False)
    assert new["metadata"]["annotations"] == {
        "kubernetes.io/change-cause": "kubectl set image", REVISION: "2",
        DESIRED_REPLICAS: "10", MAX_REPLICAS: "13"}
    assert not set_new_rs_annotations(d, new, 2, exists=True)  # nothing left to change


@pytest.mark.parametrize("old_revision, history, limit, want_history", [
    pytest.param("1", None, 2000, "1", id="first-rollback"),
    pytest.param("3", "1", 2000, "1,3", id="appended"),
    pytest.param("3", "1,2", 3, "2,3", id="oldest-dropped-to-fit"),
])
def test_a_rollback_keeps_the_revisions_it_had(old_revision: str, history: str | None,
                                               limit: int, want_history: str) -> None:
    old = rs("old", 0, **{REVISION: old_revision})
    if history is not None:
        old["metadata"]["annotations"][REVISION_HISTORY] = history
    assert set_new_rs_annotations(deployment(), old, 5, exists=True, history_limit=limit)
    annotations = old["metadata"]["annotations"]
    assert (annotations[REVISION], annotations[REVISION_HISTORY]) == ("5", want_history)


def test_the_new_replica_set_is_the_oldest_with_the_template_ignoring_the_hash() -> None:
    hashed = {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}},
              "spec": TEMPLATE["spec"]}
    other = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": []}}
    rss = [rs("b", 1, "2016-05-20T02:00:00Z", hashed), rs("a", 1, "2016-05-20T01:00:00Z", hashed),
           rs("c", 1, "2016-05-20T00:00:00Z", other)]
    assert equal_ignore_hash(hashed, TEMPLATE) and not equal_ignore_hash(other, TEMPLATE)
    assert find_new_rs(deployment(), rss)["metadata"]["name"] == "a"  # type: ignore[index]
    assert [r["metadata"]["name"] for r in find_old_rss(deployment(), rss)] == ["b", "c"]


@pytest.mark.parametrize("new, olds, want", [
    pytest.param(None, [], None, id="nothing"),
    pytest.param(rs("new", 0), [rs("old", 0)], "new", id="none-active-newest"),
    pytest.param(None, [rs("a", 0, "2016-05-20T00:00:00Z"), rs("b", 0, "2016-05-20T01:00:00Z")],
                 "b", id="none-active-newest-old"),
    pytest.param(rs("new", 0), [rs("old", 3)], "old", id="one-active"),
    pytest.param(rs("new", 2), [rs("old", 3)], None, id="two-active"),
])
def test_find_active_or_latest(new: Obj | None, olds: list[Obj], want: str | None) -> None:
    found = find_active_or_latest(new, olds)
    assert (found["metadata"]["name"] if found else None) == want
