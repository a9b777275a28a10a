import base64
import copy
from typing import Any, Callable

import pytest

from kubelite.apiserver.registry.strategies import STRATEGIES
from kubelite.apiserver.registry.strategies.crdwebhook import ca_bundle_problem

from .test_apiextensions import created, widget_crd

KEY = ("apiextensions.k8s.io", "customresourcedefinitions")
CRD = STRATEGIES[KEY]
ESTABLISHED = {"type": "Established", "status": "True", "reason": "InitialNamesAccepted"}


def stored(*, established: bool = True) -> dict[str, Any]:
    crd = created(widget_crd())
    crd["metadata"]["resourceVersion"] = "5"
    if established:
        crd["status"]["conditions"] = [ESTABLISHED]
    return crd


def updated(old: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> tuple[
        dict[str, Any], list[str]]:
    new = copy.deepcopy(old)
    change(new)
    CRD.prepare_for_update(new, old)
    CRD.default(new)
    causes = CRD.validate(new) + CRD.validate_update(new, old)
    return new, [f"{c.field}: {c.message}" for c in causes]


def _add_v2_storage(crd: dict[str, Any]) -> None:
    v2 = copy.deepcopy(crd["spec"]["versions"][0])
    v2["name"] = "v2"
    crd["spec"]["versions"][0]["storage"] = False
    crd["spec"]["versions"].append(v2)


def test_update_keeps_status_and_records_a_new_storage_version() -> None:
    old = stored()
    new, causes = updated(old, lambda c: (_add_v2_storage(c), c.update(status={})))
    assert causes == []
    assert new["status"]["conditions"] == [ESTABLISHED]
    assert new["status"]["storedVersions"] == ["v1", "v2"]
    assert old["status"]["storedVersions"] == ["v1"]  # the old object is left alone
    assert CRD.bumps_generation(new, old)


def test_removing_a_stored_version_is_refused_until_migrated() -> None:
    old = stored()
    _add_v2_storage(old)
    old["status"]["storedVersions"] = ["v1", "v2"]
    _, causes = updated(old, lambda c: c["spec"].update(versions=c["spec"]["versions"][1:]))
    assert causes == [
        'status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was '
        "previously a storage version, and must remain in spec.versions until a storage "
        "migration ensures no data remains persisted in v1 and removes v1 from "
        "status.storedVersions"]


def test_status_subresource_may_drop_a_migrated_version() -> None:
    old = stored()
    _add_v2_storage(old)
    old["status"]["storedVersions"] = ["v1", "v2"]
    old["spec"]["versions"] = old["spec"]["versions"][1:]
    status = CRD.subresource_strategies()["status"]
    new = copy.deepcopy(old)
    new["status"]["storedVersions"] = ["v2"]
    status.prepare_for_update(new, old)
    assert status.validate(new) == [] and status.validate_update(new, old) == []
    assert not status.bumps_generation(new, old)


@pytest.mark.parametrize("established,change,want", [
    (True, lambda c: c["spec"].update(scope="Cluster"),
     ['spec.scope: Invalid value: "Cluster": field is immutable']),
    (False, lambda c: c["spec"].update(scope="Cluster"), []),
    (True, lambda c: c["spec"]["names"].update(kind="Gadget", listKind="GadgetList"),
     ['spec.names.kind: Invalid value: "Gadget": field is immutable']),
    (False, lambda c: c["spec"]["names"].update(kind="Gadget", listKind="GadgetList"), []),
    (False, lambda c: (c["spec"].update(group="example.org"),
                       c["metadata"].update(name="widgets.example.org")),
     ['metadata.name: Invalid value: "widgets.example.com": must be '
      'spec.names.plural+"."+spec.group',
      'spec.group: Invalid value: "example.org": field is immutable']),
    (False, lambda c: c["spec"]["names"].update(plural="gizmos"),
     ['metadata.name: Invalid value: "widgets.example.com": must be '
      'spec.names.plural+"."+spec.group',
      'spec.names.plural: Invalid value: "gizmos": field is immutable']),
    (True, lambda c: c["spec"]["names"].update(shortNames=["wdg"]), []),
], ids=["scope-established", "scope-not-yet-established", "kind-established",
        "kind-not-yet-established", "group", "plural", "short-names-may-change"])
def test_update_rules(established: bool, change: Callable[[dict[str, Any]], None],
                      want: list[str]) -> None:
    # metadata.name is the store's: an update cannot rename, so the old name stays
    _, causes = updated(stored(established=established),
                        lambda c: (change(c), c["metadata"].update(name="widgets.example.com")))
    assert causes == want


def _webhook_conversion(bundle: str) -> Callable[[dict[str, Any]], None]:
    def change(crd: dict[str, Any]) -> None:
        crd["spec"]["conversion"] = {"strategy": "Webhook", "webhook": {
            "conversionReviewVersions": ["v1"],
            "clientConfig": {"service": {"namespace": "ns", "name": "conv"},
                             "caBundle": bundle}}}
    return change


NOT_PEM = base64.b64encode(b"not a certificate").decode()


def test_ca_bundle_is_checked_once_established() -> None:
    new, causes = updated(stored(established=False), _webhook_conversion(NOT_PEM))
    assert causes == []
    assert new["spec"]["conversion"]["webhook"]["clientConfig"]["service"]["port"] == 443
    _, causes = updated(stored(), _webhook_conversion(NOT_PEM))
    assert causes == [
        f'spec.conversion.webhookClientConfig.caBundle: Invalid value: "{NOT_PEM}": unable to '
        "load root certificates: unable to parse bytes as PEM block"]


def test_an_already_invalid_ca_bundle_may_stay_invalid() -> None:
    old = stored()
    _webhook_conversion(NOT_PEM)(old)
    _, causes = updated(old, _webhook_conversion(base64.b64encode(b"still not").decode()))
    assert causes == []


def test_ca_bundle_problem_names_the_pem_block_type() -> None:
    key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
    assert ca_bundle_problem(base64.b64encode(key).decode()) == (
        'unable to load root certificates: unexpected PEM block type "PRIVATE KEY"')
