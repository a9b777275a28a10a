from __future__ import annotations

import pytest

from kubelite.api import catalogue, schemas
from kubelite.api.catalogue import GVK, RESOURCES, ResourceSpec


def _find(group: str, plural: str) -> ResourceSpec:
    return catalogue.by_group_plural()[(group, plural)]


def test_every_built_in_resource_has_a_schema_for_its_kind_and_list_in_every_version() -> None:
    missing = [(r.group, v, k) for r in RESOURCES for v in r.versions
               for k in (r.kind, r.list_kind) if schemas.schema_for(GVK(r.group, v, k)) is None]
    assert missing == []


def test_group_and_plural_identify_one_resource() -> None:
    assert len({(r.group, r.plural) for r in RESOURCES}) == len(RESOURCES)


@pytest.mark.parametrize(
    ("group", "plural", "short_names", "categories", "namespaced"),
    [
        ("", "pods", ("po",), ("all",), True),
        ("", "services", ("svc",), ("all",), True),
        ("", "namespaces", ("ns",), (), False),
        ("", "limitranges", ("limits",), (), True),
        ("", "resourcequotas", ("quota",), (), True),
        ("", "replicationcontrollers", ("rc",), ("all",), True),
        ("apps", "statefulsets", ("sts",), ("all",), True),
        ("batch", "jobs", (), ("all",), True),
        ("batch", "cronjobs", ("cj",), ("all",), True),
        ("autoscaling", "horizontalpodautoscalers", ("hpa",), ("all",), True),
        ("networking.k8s.io", "networkpolicies", ("netpol",), (), True),
        ("scheduling.k8s.io", "priorityclasses", ("pc",), (), False),
        ("apiextensions.k8s.io", "customresourcedefinitions", ("crd", "crds"),
         ("api-extensions",), False),
        ("admissionregistration.k8s.io", "validatingadmissionpolicies", (),
         ("api-extensions",), False),
    ],
    ids=lambda v: v if isinstance(v, str) and v else None,
)
def test_resource_matches_upstream_discovery(group: str, plural: str, short_names: tuple[str, ...],
                                             categories: tuple[str, ...], namespaced: bool) -> None:
    r = _find(group, plural)
    assert (r.short_names, r.categories, r.namespaced) == (short_names, categories, namespaced)


def test_namespaces_cannot_be_deleted_as_a_collection() -> None:
    assert "deletecollection" not in _find("", "namespaces").verbs
    assert _find("", "namespaces").subresources == ("status", "finalize")


def test_events_k8s_io_events_share_storage_with_core_events() -> None:
    assert _find("events.k8s.io", "events").storage_alias == ("", "events")
    assert _find("", "events").storage_alias is None


def test_groups_follow_kube_apiserver_priority_with_core_first() -> None:
    order = [g for g, _ in catalogue.groups()]
    # the aggregator's own group comes first in /apis, as on a real cluster
    assert order[:5] == ["", "apiregistration.k8s.io", "apps", "events.k8s.io", "autoscaling"]
    assert order.index("admissionregistration.k8s.io") + 1 == order.index("apiextensions.k8s.io")
    assert order[-1] == "discovery.k8s.io"


def test_autoscaling_prefers_v2_and_also_serves_v1() -> None:
    assert dict(catalogue.groups())["autoscaling"] == ("v2", "v1")
    assert catalogue.preferred_versions()["autoscaling"] == "v2"


def test_custom_groups_come_after_built_in_groups() -> None:
    crd = ResourceSpec("stable.example.com", ("v1",), "CronTab", "crontabs", crd_schemas={})
    assert catalogue.groups((*RESOURCES, crd))[-1] == ("stable.example.com", ("v1",))


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        (["v1alpha1", "v1", "v2beta1", "v1beta2", "v2"], ["v2", "v1", "v2beta1", "v1beta2", "v1alpha1"]),
        (["foo", "v1"], ["v1", "foo"]),
    ],
    ids=["kube-order", "non-kube-last"],
)
def test_versions_sort_ga_then_beta_then_alpha(versions: list[str], expected: list[str]) -> None:
    assert sorted(versions, key=catalogue.version_sort_key) == expected


def test_resources_in_a_group_version_are_sorted_by_plural() -> None:
    plurals = [r.plural for r in catalogue.resources_in("apps", "v1")]
    assert plurals == sorted(plurals) and "deployments" in plurals
    assert [r.kind for r in catalogue.resources_in("autoscaling", "v1")] == ["HorizontalPodAutoscaler"]
