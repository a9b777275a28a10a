"""Client certificates: upstream's x509 request authenticator.

The TLS layer does the verifying: the server's context asks every client for a
certificate (optional, so token clients need none) and checks a presented one
against the client CA, for client authentication, and its dates; a certificate
that fails is refused in the handshake. What reaches this authenticator is
therefore a verified chain, and it names its user as upstream's
CommonNameUserConversion does: the user is the subject's CN, the groups its O
values; a certificate without a CN names nobody.

Where upstream answers a bad certificate with 401, kubelite's handshake fails and
the connection closes unanswered (Python's ssl cannot ask for a certificate without
checking it); either way the request is never served (docs/decisions.md).

A request with no verified certificate (plain HTTP, the in-process transport, a
token client) is not this authenticator's: it answers None.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kubelite.apiserver.auth.user import UserInfo


def user_from_subject(subject: Any) -> UserInfo | None:
    """The user of an `ssl.getpeercert()` subject: relative distinguished names,
    each a tuple of (attribute, value) pairs."""
    common_name = ""
    groups: list[str] = []
    for rdn in subject or ():
        for attribute, value in rdn:
            if attribute == "commonName":
                common_name = value
            elif attribute == "organizationName":
                groups.append(value)
    if not common_name:
        return None
    return UserInfo(common_name, groups=tuple(groups))


class X509Authenticator:
    async def authenticate(self, request: web.BaseRequest) -> UserInfo | None:
        transport = request.transport
        if transport is None:
            return None
        # the peer's certificate as the handshake verified it, read once per
        # connection by the TLS transport; None or empty when none was verified
        peer = transport.get_extra_info("peercert")
        if not peer:
            return None
        return user_from_subject(peer.get("subject"))
