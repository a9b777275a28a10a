"""The node CIDR set, against upstream's cidr_set_test.go outcomes."""

from __future__ import annotations

import pytest

from kubelite.controllers.cidrset import CIDRSet, CIDRSetFull


def test_node_cidrs_are_handed_out_in_order_until_full() -> None:
    cidrs = CIDRSet("127.123.234.0/28", 30)
    got = [str(cidrs.allocate()) for _ in range(4)]
    assert got == ["127.123.234.0/30", "127.123.234.4/30", "127.123.234.8/30",
                   "127.123.234.12/30"]
    with pytest.raises(CIDRSetFull):
        cidrs.allocate()


def test_the_default_cluster_cidr_gives_256_node_cidrs() -> None:
    cidrs = CIDRSet("10.42.0.0/16", 24)
    assert (cidrs.slots, str(cidrs.allocate()), str(cidrs.allocate())) == (
        256, "10.42.0.0/24", "10.42.1.0/24")


def test_occupied_cidrs_are_skipped() -> None:
    cidrs = CIDRSet("10.42.0.0/16", 24)
    cidrs.occupy("10.42.0.0/24")
    cidrs.occupy("10.42.2.0/23")  # two slots
    assert [str(cidrs.allocate()) for _ in range(2)] == ["10.42.1.0/24", "10.42.4.0/24"]
    assert cidrs.used_count == 5


def test_a_released_cidr_is_handed_out_again_only_after_the_others() -> None:
    cidrs = CIDRSet("10.0.0.0/22", 24)
    first = cidrs.allocate()
    cidrs.release(str(first))
    assert [str(cidrs.allocate()) for _ in range(4)] == [
        "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24", "10.0.0.0/24"]


@pytest.mark.parametrize(("cidr", "used"), [
    ("10.0.0.0/16", 4), ("10.0.0.0/8", 4), ("10.0.1.128/25", 1), ("10.0.2.0/23", 2),
], ids=["the-cluster-cidr", "larger-than-the-cluster", "smaller-than-a-slot", "two-slots"])
def test_occupy_marks_every_slot_a_cidr_overlaps(cidr: str, used: int) -> None:
    cidrs = CIDRSet("10.0.0.0/22", 24)
    cidrs.occupy(cidr)
    assert cidrs.used_count == used
    cidrs.release(cidr)
    assert cidrs.used_count == 0


@pytest.mark.parametrize("cidr", ["10.1.0.0/24", "fd00::/64"], ids=["outside", "other-family"])
def test_a_cidr_outside_the_cluster_cidr_is_refused(cidr: str) -> None:
    with pytest.raises(ValueError, match="out of the range"):
        CIDRSet("10.0.0.0/22", 24).occupy(cidr)


def test_ipv6_node_cidrs() -> None:
    cidrs = CIDRSet("fd00:10:42::/56", 64)
    assert (cidrs.slots, str(cidrs.allocate()), str(cidrs.allocate())) == (
        256, "fd00:10:42::/64", "fd00:10:42:1::/64")


@pytest.mark.parametrize(("cluster", "mask"), [
    ("10.0.0.0/16", 8), ("10.0.0.0/8", 25), ("10.0.0.0/16", 33)],
    ids=["mask-shorter-than-cluster", "too-many-slots", "mask-too-long"])
def test_a_mask_that_does_not_fit_is_refused(cluster: str, mask: int) -> None:
    with pytest.raises(ValueError):
        CIDRSet(cluster, mask)
