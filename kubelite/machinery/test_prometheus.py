from __future__ import annotations

import math

import pytest

from kubelite.machinery.go_json import go_float
from kubelite.machinery.prometheus import (
    ParseError, Sample, format_family, format_sample, parse, parse_line)

# What a 1.35 kubelet's /metrics/resource says (trimmed), as metrics-server reads it.
KUBELET_TEXT = """\
# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="coredns",namespace="kube-system",pod="coredns-55cb58b774-7wrmk"} 10.526137 1700000000123
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="coredns",namespace="kube-system",pod="coredns-55cb58b774-7wrmk"} 1.7981440e+07 1700000000123
# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 357.35491 1700000000456
# HELP scrape_error [ALPHA] 1 if there was an error while getting container metrics, 0 otherwise
# TYPE scrape_error gauge
scrape_error 0
"""


def test_a_kubelet_resource_scrape_parses_into_its_samples() -> None:
    samples = list(parse(KUBELET_TEXT))
    assert [s.name for s in samples] == [
        "container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
        "node_cpu_usage_seconds_total", "scrape_error"]
    cpu = samples[0]
    assert cpu.labels == {"container": "coredns", "namespace": "kube-system",
                          "pod": "coredns-55cb58b774-7wrmk"}
    assert cpu.value == 10.526137 and cpu.timestamp_ms == 1700000000123
    assert samples[1].value == 17981440.0
    assert samples[3] == Sample("scrape_error", {}, 0.0, None)


@pytest.mark.parametrize("line, expected", [
    pytest.param('m{a="x\\"y\\\\z\\n"} 1', Sample("m", {"a": 'x"y\\z\n'}, 1.0), id="escapes"),
    pytest.param("m{} 2 3", Sample("m", {}, 2.0, 3), id="empty-braces"),
    pytest.param('m{a="1",b="2",} 1', Sample("m", {"a": "1", "b": "2"}, 1.0),
                 id="trailing-comma"),
    pytest.param("m +Inf", Sample("m", {}, math.inf), id="plus-inf"),
    pytest.param("m -Inf", Sample("m", {}, -math.inf), id="minus-inf"),
    pytest.param("name:with_colon 1e-05", Sample("name:with_colon", {}, 1e-05), id="colon"),
    pytest.param("   ", None, id="blank"),
    pytest.param("# just a comment", None, id="comment"),
])
def test_lines_parse_as_prometheus_reads_them(line: str, expected: Sample | None) -> None:
    assert parse_line(line) == expected


def test_nan_parses() -> None:
    sample = parse_line("m NaN")
    assert sample is not None and math.isnan(sample.value)


@pytest.mark.parametrize("line", [
    pytest.param("m", id="no-value"),
    pytest.param("m abc", id="value-not-a-number"),
    pytest.param("m 1 2 3", id="too-many-fields"),
    pytest.param("m 1 1.5", id="timestamp-not-an-integer"),
    pytest.param('m{a="1"', id="unterminated-braces"),
    pytest.param('m{a=1} 1', id="unquoted-label"),
    pytest.param('m{a="1",a="2"} 1', id="label-twice"),
    pytest.param('{a="1"} 1', id="no-name"),
    pytest.param('m{a="1"}1', id="no-space-before-value"),
])
def test_malformed_lines_are_refused_with_their_line_number(line: str) -> None:
    with pytest.raises(ParseError, match="line 2"):
        list(parse("ok 1\n" + line))


@pytest.mark.parametrize("value, text", [
    pytest.param(0.0, "0", id="zero"),
    pytest.param(0.25, "0.25", id="fraction"),
    pytest.param(123456.0, "123456", id="six-digits"),
    pytest.param(1234567.0, "1.234567e+06", id="seven-digits-exponent"),
    pytest.param(67108864.0, "6.7108864e+07", id="memory"),
    pytest.param(1e-05, "1e-05", id="small-exponent"),
    pytest.param(0.0001, "0.0001", id="small-plain"),
    pytest.param(-2.5, "-2.5", id="negative"),
    pytest.param(math.inf, "+Inf", id="inf"),
    pytest.param(math.nan, "NaN", id="nan"),
    pytest.param(357.35491, "357.35491", id="seconds"),
])
def test_values_are_written_as_go_formats_them(value: float, text: str) -> None:
    assert go_float(value) == text


def test_written_families_read_back() -> None:
    samples = [Sample("c_total", {"pod": 'a"b', "container": "x"}, 12.5, 1700000000000),
               Sample("c_total", {"pod": "p2", "container": "y"}, 0.0, 1700000000001)]
    text = format_family("c_total", "[STABLE] help", "counter", samples)
    assert text.startswith("# HELP c_total [STABLE] help\n# TYPE c_total counter\n")
    assert list(parse(text)) == samples
    assert format_sample(samples[0]) == 'c_total{pod="a\\"b",container="x"} 12.5 1700000000000'
