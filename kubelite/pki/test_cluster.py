"""The cluster's certificate files: made once, CAs kept, leaves renewed when due."""

from __future__ import annotations

import datetime
import ipaddress
import stat
from pathlib import Path

import pytest

from kubelite.pki.certs import AltNames, Subject, load_certificate
from kubelite.pki.cluster import (
    ADMIN,
    CLIENT_CA,
    LEAVES,
    SERVER_CA,
    SERVING,
    ClusterTLS,
    serving_alt_names,
)

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
NAMES = serving_alt_names(bind_address="127.0.0.1", service_cidr="10.43.0.0/16", extra=[],
                          host_name="box")
CAS = ("server-ca", "client-ca", "request-header-ca")


@pytest.fixture
def tls(tmp_path: Path) -> ClusterTLS:
    tls = ClusterTLS(tmp_path / "tls")
    tls.ensure(NAMES, now=NOW)
    return tls


def _contents(tls: ClusterTLS) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(tls.directory.iterdir())}


def test_first_start_makes_every_file_private(tls: ClusterTLS) -> None:
    expected = {f"{name}.{ext}" for name in (*CAS, *(leaf.name for leaf in LEAVES))
                for ext in ("crt", "key")}
    assert {p.name for p in tls.directory.iterdir()} == expected
    assert "service.key" not in expected  # the ServiceAccount key is not made here
    for path in tls.directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(tls.directory.stat().st_mode) == 0o700


def test_the_admin_certificate_is_system_admin_in_system_masters(tls: ClusterTLS) -> None:
    cert = load_certificate(tls.credentials(ADMIN)[0])
    assert Subject.of(cert) == Subject("system:admin", ("system:masters",))
    cert.verify_directly_issued_by(load_certificate(tls.ca_pem(CLIENT_CA)))
    assert tls.authority(CLIENT_CA).issued(cert)
    assert not tls.authority(SERVER_CA).issued(cert)


def test_a_restart_keeps_every_file(tls: ClusterTLS) -> None:
    before = _contents(tls)
    assert tls.ensure(NAMES, now=NOW + datetime.timedelta(days=200)) == []
    assert _contents(tls) == before


def test_a_leaf_expiring_within_90_days_is_renewed_and_the_ca_kept(tls: ClusterTLS) -> None:
    before = _contents(tls)
    later = NOW + datetime.timedelta(days=365 - 89)
    assert tls.ensure(NAMES, now=later) == [leaf.name for leaf in LEAVES]
    after = _contents(tls)
    for ca in CAS:
        assert after[f"{ca}.crt"] == before[f"{ca}.crt"]
        assert after[f"{ca}.key"] == before[f"{ca}.key"]
    serving = load_certificate(after["serving-kube-apiserver.crt"])
    assert serving.not_valid_after_utc > later + datetime.timedelta(days=300)
    serving.verify_directly_issued_by(load_certificate(after["server-ca.crt"]))


def test_a_new_tls_san_reissues_only_the_serving_certificate(tls: ClusterTLS) -> None:
    wider = serving_alt_names(bind_address="127.0.0.1", service_cidr="10.43.0.0/16",
                              extra=["api.example.com", "192.0.2.7"], host_name="box")
    assert tls.ensure(wider, now=NOW) == [SERVING.name]
    names = AltNames.of(load_certificate(tls.credentials(SERVING)[0]))
    assert "api.example.com" in names.dns_names
    assert ipaddress.ip_address("192.0.2.7") in names.ips


def test_rotate_reissues_every_leaf_keeping_cas_and_serving_names(tls: ClusterTLS) -> None:
    before = _contents(tls)
    assert tls.rotate(now=NOW) == [leaf.name for leaf in LEAVES]
    after = _contents(tls)
    for leaf in LEAVES:
        assert after[f"{leaf.name}.crt"] != before[f"{leaf.name}.crt"]
        assert after[f"{leaf.name}.key"] != before[f"{leaf.name}.key"]
    assert {k: v for k, v in after.items() if k.endswith("-ca.crt") or k.endswith("-ca.key")} \
        == {k: v for k, v in before.items() if k.endswith("-ca.crt") or k.endswith("-ca.key")}
    assert AltNames.of(load_certificate(after["serving-kube-apiserver.crt"])) == NAMES


def test_rotate_before_any_start_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="start the server once"):
        ClusterTLS(tmp_path / "tls").rotate(now=NOW)


def test_a_leaf_signed_by_a_replaced_ca_is_reissued(tls: ClusterTLS) -> None:
    tls.cert_path(SERVER_CA).unlink()
    tls.key_path(SERVER_CA).unlink()
    assert tls.ensure(NAMES, now=NOW) == [SERVING.name]


def test_a_ca_certificate_without_its_key_stops_the_start(tls: ClusterTLS) -> None:
    tls.key_path(CLIENT_CA).unlink()
    with pytest.raises(ValueError, match="exists without its key"):
        tls.ensure(NAMES, now=NOW)


def test_an_unreadable_leaf_is_issued_again(tls: ClusterTLS) -> None:
    tls.cert_path(ADMIN.name).write_bytes(b"garbage")
    assert tls.ensure(NAMES, now=NOW) == [ADMIN.name]


@pytest.mark.parametrize("bind,cidr,extra,more,absent", [
    ("127.0.0.1", "10.43.0.0/16", [], ["10.43.0.1"], []),
    ("0.0.0.0", "10.43.0.0/16", [], [], ["0.0.0.0"]),
    ("192.0.2.10", "10.43.0.0/16,fd00::/108", ["k.example"],
     ["192.0.2.10", "fd00::1", "k.example"], []),
], ids=["loopback", "every-address-is-no-san", "dual-stack-and-tls-san"])
def test_serving_names(bind: str, cidr: str, extra: list[str], more: list[str],
                       absent: list[str]) -> None:
    names = serving_alt_names(bind_address=bind, service_cidr=cidr, extra=extra,
                              host_name="box")
    base = AltNames.parse(["localhost", "127.0.0.1", "::1", "box", "kubernetes",
                           "kubernetes.default", "kubernetes.default.svc",
                           "kubernetes.default.svc.cluster.local"])
    assert names.covers(base) and names.covers(AltNames.parse(more))
    for name in absent:
        assert not names.covers(AltNames.parse([name]))
