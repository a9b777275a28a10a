"""`--root-ca-file`: the CA bundle the root-ca-cert-publisher loop writes into every
namespace (upstream's readCA in cmd/kube-controller-manager).

The file is published as it is, byte for byte, once it is known to hold certificates:
at least one PEM block of type CERTIFICATE, each base64 that decodes to a DER
SEQUENCE (upstream's certutil.ParseCertsPEM, which skips blocks of other types). A
file that does not is refused before anything starts, in upstream's words.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL)


def certificate_blocks(pem: str) -> int:
    """How many certificates the PEM text holds; ValueError when one is broken or
    there is none."""
    found = 0
    for kind, body in _BLOCK.findall(pem):
        if kind != "CERTIFICATE":
            continue
        try:
            der = base64.b64decode("".join(body.split()), validate=True)
        except binascii.Error:
            raise ValueError("a CERTIFICATE block is not base64") from None
        if not der or der[0] != 0x30:
            raise ValueError("a CERTIFICATE block is not a DER certificate")
        found += 1
    if not found:
        raise ValueError("data does not contain any valid RSA or ECDSA certificates")
    return found


def read_root_ca(path: Path) -> str:
    """The file's text; ValueError saying what is wrong with it."""
    try:
        text = path.read_text()
        certificate_blocks(text)
    except (OSError, UnicodeDecodeError, ValueError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else err
        raise ValueError(f"error parsing root-ca-file at {path}: {reason}") from None
    return text
