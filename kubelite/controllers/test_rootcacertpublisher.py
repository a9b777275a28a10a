"""What the root CA publisher puts back in a kube-root-ca.crt ConfigMap (upstream's
syncNamespace comparison)."""

from __future__ import annotations

from typing import Any

import pytest

from kubelite.controllers.rootcacertpublisher import (
    DESCRIPTION, DESCRIPTION_ANNOTATION, corrected, desired_config_map)

Obj = dict[str, Any]
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def config_map(data: Obj | None, annotations: Obj | None = None, **extra: Any) -> Obj:
    meta: Obj = {"name": "kube-root-ca.crt", "namespace": "ns", "resourceVersion": "7"}
    if annotations is not None:
        meta["annotations"] = annotations
    return {"metadata": meta, **({} if data is None else {"data": data}), **extra}


RIGHT = {DESCRIPTION_ANNOTATION: DESCRIPTION}


@pytest.mark.parametrize(("given", "fixed"), [
    (config_map({"ca.crt": CA}, RIGHT), None),
    (config_map({"ca.crt": CA}, {DESCRIPTION_ANNOTATION: "mine"}), None),
    (config_map({"ca.crt": "old"}, RIGHT), config_map({"ca.crt": CA}, RIGHT)),
    (config_map({"ca.crt": CA, "extra": "x"}, RIGHT), config_map({"ca.crt": CA}, RIGHT)),
    (config_map(None, RIGHT), config_map({"ca.crt": CA}, RIGHT)),
    (config_map({"ca.crt": CA}), config_map({"ca.crt": CA}, RIGHT)),
    (config_map({"ca.crt": CA}, {"team": "a", DESCRIPTION_ANNOTATION: ""}),
     config_map({"ca.crt": CA}, {"team": "a", **RIGHT})),
    (config_map({"ca.crt": "old"}, RIGHT, binaryData={"b": "AA=="}),
     config_map({"ca.crt": CA}, RIGHT, binaryData={"b": "AA=="})),
], ids=["right", "own-description-kept", "bundle-changed", "extra-key-dropped", "data-gone",
        "annotation-gone", "empty-description-others-kept", "binary-data-kept"])
def test_the_bundle_and_description_are_put_back(given: Obj, fixed: Obj | None) -> None:
    assert corrected(given, CA) == fixed


def test_a_new_config_map_carries_the_bundle_and_description() -> None:
    assert desired_config_map(CA) == {
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "kube-root-ca.crt", "annotations": RIGHT},
        "data": {"ca.crt": CA}}
