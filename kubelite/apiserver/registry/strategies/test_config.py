import copy

import pytest

from kubelite.apiserver.registry.strategies import STRATEGIES
from kubelite.machinery.errors import BadRequest

SECRET = STRATEGIES[("", "secrets")]
CM = STRATEGIES[("", "configmaps")]
EVENT = STRATEGIES[("", "events")]


def test_secret_defaults_type_and_folds_string_data():
    secret = {"kind": "Secret", "metadata": {"name": "s"}, "stringData": {"user": "admin"}}
    SECRET.prepare_for_create(secret)
    SECRET.default(secret)
    assert secret == {"kind": "Secret", "metadata": {"name": "s"}, "data": {"user": "YWRtaW4="}, "type": "Opaque"}
    assert "generation" not in secret["metadata"]
    assert SECRET.validate(secret) == []


def test_secret_rejects_non_base64_with_bad_request():
    with pytest.raises(BadRequest, match="illegal base64 data at input byte 3"):
        SECRET.default({"data": {"k": "abc!"}})


def test_secret_type_is_immutable():
    old = {"type": "Opaque", "data": {}}
    new = dict(old, type="kubernetes.io/tls")
    assert [(c.field, c.message) for c in SECRET.validate_update(new, old)] == [
        ("type", 'Invalid value: "kubernetes.io/tls": field is immutable')]


def test_tls_secret_needs_its_keys():
    causes = SECRET.validate({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}})
    assert [(c.field, c.message) for c in causes] == [("data[tls.key]", "Required value")]


def test_configmap_key_must_be_a_config_key():
    [cause] = CM.validate({"data": {"bad key": "v"}})
    assert cause.field == "data[bad key]"
    assert cause.message == (
        "Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' "
        "or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
        "'[-._a-zA-Z0-9]+')")


def test_immutable_configmap_data_cannot_change():
    old = {"immutable": True, "data": {"a": "1"}}
    new = copy.deepcopy(old)
    new["data"]["a"] = "2"
    assert [(c.field, c.message) for c in CM.validate_update(new, old)] == [
        ("data", "Forbidden: field is immutable when `immutable` is set")]
    assert not CM.bumps_generation(new, old)


def test_event_selectable_fields():
    event = {"involvedObject": {"kind": "Pod", "name": "p", "namespace": "default", "uid": "u"},
             "reason": "Scheduled", "type": "Normal", "source": {"component": "default-scheduler"}}
    fields = EVENT.selectable_fields(event)
    assert fields["involvedObject.kind"] == "Pod"
    assert fields["involvedObject.name"] == "p"
    assert fields["reason"] == "Scheduled"
    assert fields["source"] == "default-scheduler"
    assert fields["type"] == "Normal"
    assert fields["involvedObject.fieldPath"] == ""
