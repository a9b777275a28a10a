"""The API server's own checks of pods/log, exec and attach requests, against
upstream's validateContainer and ValidatePodLogOptions outcomes."""

from __future__ import annotations

from typing import Any

import pytest
from multidict import MultiDict

from kubelite.apiserver.pod_connect import choose_container, log_query
from kubelite.machinery import errors

POD: dict[str, Any] = {"metadata": {"name": "web"}, "spec": {
    "initContainers": [{"name": "setup"}],
    "containers": [{"name": "app"}, {"name": "sidecar"}],
    "ephemeralContainers": [{"name": "debugger"}]}}
SINGLE: dict[str, Any] = {"metadata": {"name": "one"}, "spec": {"containers": [{"name": "app"}]}}


@pytest.mark.parametrize(("pod", "asked", "chosen"), [
    (SINGLE, "", "app"),
    (POD, "sidecar", "sidecar"),
    (POD, "setup", "setup"),
    (POD, "debugger", "debugger"),
], ids=["the-only-one", "named", "init-container", "ephemeral-container"])
def test_the_container_is_the_named_or_the_only_one(pod: dict[str, Any], asked: str,
                                                     chosen: str) -> None:
    assert choose_container(pod, asked) == chosen


@pytest.mark.parametrize(("pod", "asked", "message"), [
    (POD, "", "a container name must be specified for pod web, choose one of: "
              "[setup app sidecar debugger]"),
    (POD, "nope", "container nope is not valid for pod web"),
    ({"metadata": {"name": "empty"}, "spec": {}}, "",
     "a container name must be specified for pod empty"),
], ids=["several", "unknown", "none"])
def test_a_missing_or_unknown_container_is_a_bad_request(pod: dict[str, Any], asked: str,
                                                         message: str) -> None:
    with pytest.raises(errors.BadRequest) as caught:
        choose_container(pod, asked)
    assert caught.value.message == message


@pytest.mark.parametrize(("query", "params"), [
    ({}, {}),
    ({"tailLines": "0", "timestamps": "true", "follow": "1"},
     {"tailLines": "0", "timestamps": "true", "follow": "true"}),
    ({"sinceTime": "2026-01-01T00:00:00Z", "limitBytes": "10", "previous": "false"},
     {"sinceTime": "2026-01-01T00:00:00Z", "limitBytes": "10"}),
], ids=["none", "tail-and-flags", "since-time"])
def test_log_options_become_the_kubelets_query(query: dict[str, str],
                                               params: dict[str, str]) -> None:
    assert log_query(MultiDict(query), "web") == params


@pytest.mark.parametrize(("query", "field", "detail"), [
    ({"tailLines": "-1"}, "tailLines", "Invalid value: -1: must be greater than or equal to 0"),
    ({"limitBytes": "0"}, "limitBytes", "Invalid value: 0: must be greater than 0"),
    ({"sinceSeconds": "0"}, "sinceSeconds", "Invalid value: 0: must be greater than 0"),
    ({"sinceSeconds": "5", "sinceTime": "2026-01-01T00:00:00Z"}, "",
     "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"),
], ids=["negative-tail", "zero-limit", "zero-since", "both-sinces"])
def test_invalid_log_options_are_refused_as_upstream(query: dict[str, str], field: str,
                                                     detail: str) -> None:
    with pytest.raises(errors.Invalid) as caught:
        log_query(MultiDict(query), "web")
    assert [(c.field, c.message) for c in caught.value.causes] == [(field, detail)]


@pytest.mark.parametrize("query", [{"tailLines": "x"}, {"sinceTime": "yesterday"}],
                         ids=["not-a-number", "not-a-time"])
def test_unparsable_log_options_are_bad_requests(query: dict[str, str]) -> None:
    with pytest.raises(errors.BadRequest):
        log_query(MultiDict(query), "web")
