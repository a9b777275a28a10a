"""Go's base64.StdEncoding.Decode verdict on a string, with Go's error offset.

encoding/json decodes a []byte field (Secret.data, ConfigMap.binaryData) with the
standard, padded alphabet, skipping newlines, and a client that sends anything else gets
`illegal base64 data at input byte N`. Python's decoder accepts and refuses different
inputs and names no offset, so this replays Go's decodeQuantum: the same quanta, the
same padding rules, the same N.
"""

from __future__ import annotations

_B64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def base64_error(src: bytes) -> str | None:
    """Go's base64.StdEncoding.Decode verdict: None, or `illegal base64 data at input
    byte N` with Go's N. Newlines are skipped; padding is required."""
    si, n = 0, len(src)
    while si < n:
        j = 0
        while j < 4:
            if si == n:
                if j == 0:
                    return None
                return _corrupt(si - j)
            c = src[si]
            si += 1
            if c in _B64:
                j += 1
                continue
            if c in (10, 13):
                continue
            if c != 61:  # "="
                return _corrupt(si - 1)
            # padding
            if j in (0, 1):
                return _corrupt(si - 1)
            if j == 2:
                while si < n and src[si] in (10, 13):
                    si += 1
                if si == n:
                    return _corrupt(n)
                if src[si] != 61:
                    return _corrupt(si - 1)
                si += 1
            while si < n and src[si] in (10, 13):
                si += 1
            if si < n:
                return _corrupt(si)
            return None
    return None


def _corrupt(offset: int) -> str:
    return f"illegal base64 data at input byte {offset}"
