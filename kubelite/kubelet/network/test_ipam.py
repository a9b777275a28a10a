"""Host-local address management: which address comes next, and the store on disk."""

from __future__ import annotations

import os
from ipaddress import IPv4Address, IPv4Network
from pathlib import Path

import pytest

from kubelite.kubelet.network.ipam import (
    AddressesExhausted,
    HostLocalStore,
    first_free,
    gateway_of,
    parse_pod_cidr,
)

NET = IPv4Network("10.42.1.0/24")


def _a(last_octet: int) -> IPv4Address:
    return IPv4Address(f"10.42.1.{last_octet}")


@pytest.mark.parametrize(("taken", "last", "expected"), [
    ((), None, 2),
    ((2, 3), None, 4),
    ((), 7, 8),
    ((8, 9), 7, 10),
    ((), 254, 2),  # wraps around after the last host
    ((2,), 254, 3),
    ((), 1, 2),  # the gateway as last reserved: start after it
    ((), 255, 2),  # the broadcast address is not a host: start over
    ((), IPv4Address("10.9.9.9"), 2),  # last reserved in another podCIDR
    (tuple(range(2, 255)), None, None),
    (tuple(n for n in range(2, 255) if n != 100), 200, 100),
], ids=["empty", "lowest-free", "after-last", "skips-taken-after-last", "wraps",
        "wraps-past-taken", "after-gateway", "after-broadcast", "other-network", "full",
        "one-left-before-last"])
def test_first_free_address(taken: tuple[int, ...], last: int | IPv4Address | None,
                            expected: int | None) -> None:
    last_reserved = last if isinstance(last, IPv4Address) or last is None else _a(last)
    found = first_free(NET, [_a(n) for n in taken], last_reserved)
    assert found == (None if expected is None else _a(expected))


def test_a_slash_30_has_one_address_for_a_pod() -> None:
    network = IPv4Network("10.42.0.4/30")
    assert first_free(network, [], None) == IPv4Address("10.42.0.6")
    assert first_free(network, [IPv4Address("10.42.0.6")], None) is None


@pytest.mark.parametrize(("cidr", "message"), [
    ("10.42.1.0/24", None),
    ("10.42.1.1/24", "host bits set"),
    ("fd00::/64", "not IPv4"),
    ("10.42.1.0/31", "too small"),
    ("nonsense", "invalid podCIDR"),
], ids=["ok", "host-bits", "ipv6", "too-small", "garbage"])
def test_parse_pod_cidr(cidr: str, message: str | None) -> None:
    if message is None:
        assert parse_pod_cidr(cidr) == IPv4Network(cidr)
        assert gateway_of(parse_pod_cidr(cidr)) == _a(1)
    else:
        with pytest.raises(ValueError, match=message):
            parse_pod_cidr(cidr)


def test_an_allocation_is_by_sandbox_and_repeats(tmp_path: Path) -> None:
    store = HostLocalStore(str(tmp_path))
    assert store.allocate("sandbox-a", NET) == _a(2)
    assert store.allocate("sandbox-b", NET) == _a(3)
    assert store.allocate("sandbox-a", NET) == _a(2)
    assert store.lookup("sandbox-b") == _a(3)
    assert dict(store.allocations()) == {_a(2): "sandbox-a", _a(3): "sandbox-b"}


def test_allocations_survive_a_new_store_on_the_same_directory(tmp_path: Path) -> None:
    HostLocalStore(str(tmp_path)).allocate("sandbox-a", NET)
    restarted = HostLocalStore(str(tmp_path))
    assert restarted.lookup("sandbox-a") == _a(2)
    assert restarted.allocate("sandbox-b", NET) == _a(3)


def test_a_released_address_is_the_last_to_come_back(tmp_path: Path) -> None:
    store = HostLocalStore(str(tmp_path))
    store.allocate("sandbox-a", NET)
    store.allocate("sandbox-b", NET)
    assert store.release("sandbox-a") == [_a(2)]
    assert store.release("sandbox-a") == []
    assert store.lookup("sandbox-a") is None
    assert store.allocate("sandbox-c", NET) == _a(4)


def test_a_full_pod_cidr_refuses_and_never_hands_out_network_gateway_or_broadcast(
        tmp_path: Path) -> None:
    store = HostLocalStore(str(tmp_path))
    network = IPv4Network("10.42.7.0/29")
    got = {store.allocate(f"s{i}", network) for i in range(5)}
    assert got == {IPv4Address(f"10.42.7.{n}") for n in range(2, 7)}
    with pytest.raises(AddressesExhausted):
        store.allocate("one-too-many", network)


def test_an_address_claimed_behind_the_stores_back_is_skipped(tmp_path: Path) -> None:
    store = HostLocalStore(str(tmp_path))
    os.makedirs(tmp_path, exist_ok=True)
    (tmp_path / "10.42.1.2").write_text("another-kubelet\n")
    assert store.allocate("sandbox-a", NET) == _a(3)


def test_a_sandbox_id_must_fit_a_line(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        HostLocalStore(str(tmp_path)).allocate("two\nlines", NET)
