import datetime
import ssl
from pathlib import Path

from cryptography import x509

from kubelite.pki.self_signed import serving_certificate

NOW = datetime.datetime(2026, 12, 8, tzinfo=datetime.timezone.utc)


def _names(path: Path) -> set[str]:
    leaf = x509.load_pem_x509_certificates(path.read_bytes())[0]
    sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*sans.get_values_for_type(x509.DNSName), *map(str, sans.get_values_for_type(x509.IPAddress))}


def test_a_kubelet_signs_its_own_serving_certificate(tmp_path: Path) -> None:
    cert, key = serving_certificate(tmp_path, "node-1", ["10.0.0.5", "node-1.local"], now=NOW)
    chain = x509.load_pem_x509_certificates(cert.read_bytes())
    assert [c.subject.rfc4514_string() for c in chain] == [
        f"CN=node-1@{int(NOW.timestamp())}", f"CN=node-1-ca@{int(NOW.timestamp())}"]
    assert _names(cert) == {"node-1", "10.0.0.5", "node-1.local"}
    assert key.stat().st_mode & 0o777 == 0o600
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)  # a usable serving pair


def test_it_is_kept_until_names_change_or_it_nears_its_end(tmp_path: Path) -> None:
    first = serving_certificate(tmp_path, "node-1", ["10.0.0.5"], now=NOW)[0].read_bytes()
    assert serving_certificate(tmp_path, "node-1", ["10.0.0.5"], now=NOW)[0].read_bytes() == first
    renamed = serving_certificate(tmp_path, "node-1", ["10.0.0.6"], now=NOW)[0]
    assert "10.0.0.6" in _names(renamed)
    second = renamed.read_bytes()
    assert second != first
    later = NOW + datetime.timedelta(days=300)  # within 90 days of its year's end
    assert serving_certificate(tmp_path, "node-1", ["10.0.0.6"], now=later)[0].read_bytes() != second
