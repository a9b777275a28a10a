"""The --eviction-* flags read as upstream's ParseThresholdConfig (helpers_test.go
TestParseThresholdConfig's cases) and thresholds judged as its thresholdsMet."""

from __future__ import annotations

import pytest

from kubelite.kubelet.eviction.thresholds import (
    DEFAULT_HARD, ThresholdError, ThresholdValue, float32, parse_thresholds)
from kubelite.machinery.quantity import parse_quantity

Mi = 1 << 20
Gi = 1 << 30


def _summary(text_hard: str = "", soft: str = "", grace: str = "",
             reclaim: str = "") -> list[tuple[str, str, float, str | None]]:
    return [(t.signal, str(t.value), t.grace_period, str(t.min_reclaim) if t.min_reclaim else None)
            for t in parse_thresholds(text_hard, soft, grace, reclaim)]


@pytest.mark.parametrize("hard,soft,grace,reclaim,expected", [
    pytest.param("", "", "", "", [], id="no-values"),
    pytest.param("memory.available<150Mi", "memory.available<300Mi", "memory.available=30s",
                 "memory.available=0", [("memory.available", "150Mi", 0.0, "0"),
                                        ("memory.available", "300Mi", 30.0, "0")],
                 id="all-memory-eviction-values"),
    pytest.param("memory.available<10%", "memory.available<30%", "memory.available=1m30s",
                 "memory.available=5%", [("memory.available", "10%", 0.0, "5%"),
                                         ("memory.available", "30%", 90.0, "5%")],
                 id="all-memory-eviction-values-in-percentages"),
    pytest.param("nodefs.available<10%,nodefs.inodesFree<5%,imagefs.available<15%", "", "",
                 "nodefs.available=500Mi",
                 [("nodefs.available", "10%", 0.0, "500Mi"), ("nodefs.inodesFree", "5%", 0.0, None),
                  ("imagefs.available", "15%", 0.0, None)], id="disk-eviction-values"),
    pytest.param("memory.available<0%,nodefs.available<100%,pid.available<100", "", "", "",
                 [("pid.available", "100", 0.0, None)], id="0%-and-100%-switch-a-threshold-off"),
    pytest.param(" memory.available < 1Gi , ", "", "", "", [("memory.available", "1Gi", 0.0, None)],
                 id="spaces-and-empty-items-ignored"),
])
def test_flags_parse_as_upstream(hard: str, soft: str, grace: str, reclaim: str,
                                 expected: list[tuple[str, str, float, str | None]]) -> None:
    assert _summary(hard, soft, grace, reclaim) == expected


@pytest.mark.parametrize("hard,soft,grace,reclaim,message", [
    pytest.param("mem.available<150Mi", "", "", "", "unsupported eviction signal mem.available",
                 id="invalid-signal"),
    pytest.param("memory.available<-150Mi", "", "", "",
                 "eviction threshold memory.available must be positive: -150Mi",
                 id="hard-signal-negative"),
    pytest.param("memory.available<0", "", "", "",
                 "eviction threshold memory.available must be positive: 0", id="hard-signal-zero"),
    pytest.param("memory.available<-15%", "", "", "",
                 "eviction percentage threshold memory.available must be >= 0%: -15%",
                 id="hard-signal-negative-percentage"),
    pytest.param("memory.available<150%", "", "", "",
                 "eviction percentage threshold memory.available must be <= 100%: 150%",
                 id="hard-signal-percentage-greater-than-100%"),
    pytest.param("", "memory.available<150Mi", "", "",
                 "grace period must be specified for the soft eviction threshold memory.available",
                 id="soft-no-grace-period"),
    pytest.param("", "memory.available<150Mi", "memory.available=-30s", "",
                 "invalid eviction grace period specified: -30s, must be a positive value",
                 id="invalid-grace-period-value"),
    pytest.param("", "memory.available<150Mi", "memory.available=soon", "",
                 'time: invalid duration "soon"', id="unparsable-grace-period"),
    pytest.param("", "", "", "memory.available=-300Mi",
                 "negative eviction minimum reclaim specified for memory.available",
                 id="invalid-min-reclaim"),
    pytest.param("", "", "", "memory.available=0%",
                 "eviction percentage minimum reclaim memory.available must be positive: 0%",
                 id="zero-percentage-min-reclaim"),
    pytest.param("", "", "", "memory.free=1Mi", "unsupported eviction signal memory.free",
                 id="min-reclaim-invalid-signal"),
    pytest.param("memory.available=100Mi", "", "", "", "malformed pair, expect string<string",
                 id="hard-with-equals"),
    pytest.param("", "", "memory.available<1m", "", "malformed pair, expect string=string",
                 id="grace-with-langle"),
    pytest.param("memory.available<lots", "", "", "",
                 "quantities must match the regular expression", id="bad-quantity"),
])
def test_bad_flags_are_refused_with_upstreams_message(hard: str, soft: str, grace: str,
                                                      reclaim: str, message: str) -> None:
    with pytest.raises(ThresholdError) as err:
        parse_thresholds(hard, soft, grace, reclaim)
    assert str(err.value).startswith(message)


def test_the_defaults_are_upstreams() -> None:
    assert _summary(DEFAULT_HARD) == [
        ("memory.available", "100Mi", 0.0, None), ("nodefs.available", "10%", 0.0, None),
        ("imagefs.available", "15%", 0.0, None), ("nodefs.inodesFree", "5%", 0.0, None)]


@pytest.mark.parametrize("value,capacity,expected", [
    # int64(float64(capacity) * float64(float32(p)/100)), to the byte
    pytest.param(ThresholdValue(percentage=float32(float32(10) / 100)), 100 * Gi, 10737418400,
                 id="10%-of-100Gi-rounds-as-float32"),
    pytest.param(ThresholdValue(percentage=float32(float32(5) / 100)), 1000, 50, id="5%-of-1000"),
    pytest.param(ThresholdValue(quantity=parse_quantity("100Mi")), 8 * Gi, 100 * Mi, id="quantity"),
])
def test_threshold_quantity(value: ThresholdValue, capacity: int, expected: int) -> None:
    assert value.of(capacity) == expected


@pytest.mark.parametrize("flags,available,capacity,enforce,met", [
    pytest.param(("memory.available<100Mi", ""), 99 * Mi, Gi, False, True, id="below"),
    pytest.param(("memory.available<100Mi", ""), 100 * Mi, Gi, False, False, id="at-the-line"),
    pytest.param(("memory.available<100Mi", "memory.available=50Mi"), 120 * Mi, Gi, True, True,
                 id="within-min-reclaim"),
    pytest.param(("memory.available<100Mi", "memory.available=50Mi"), 150 * Mi, Gi, True, False,
                 id="past-min-reclaim"),
    pytest.param(("memory.available<100Mi", "memory.available=50Mi"), 120 * Mi, Gi, False, False,
                 id="min-reclaim-only-when-enforced"),
    pytest.param(("nodefs.available<10%", "nodefs.available=5%"), 14 * Gi, 100 * Gi, True, True,
                 id="percentage-min-reclaim"),
])
def test_a_threshold_is_met_below_its_line(flags: tuple[str, str], available: int,
                                           capacity: int, enforce: bool, met: bool) -> None:
    (threshold,) = parse_thresholds(flags[0], minimum_reclaim=flags[1])
    assert threshold.met(available, capacity, enforce_min_reclaim=enforce) is met
