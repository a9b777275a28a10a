"""Token audiences, as upstream's authenticator.Audiences.

A token may be meant for some audiences only (a bound ServiceAccount token names
them in its `aud` claim). The API server accepts a token for itself when its
audiences meet the API audiences (`--api-audiences`); a TokenReview may ask on behalf
of another audience. Token authenticators that understand audiences implement
AudienceTokenAuthenticator besides TokenAuthenticator (authn.py): they answer for
the audiences asked, or for their implicit (API) audiences when none are.

Token authenticators that know nothing of audiences (a static token file) are
audience-agnostic: upstream's WrapAudienceAgnosticToken accepts their tokens for the
API audiences only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from kubelite.apiserver.auth.user import UserInfo


class TokenRejected(Exception):
    """A token an authenticator recognises but will not accept. The message is
    upstream's: a TokenReview reports it in status.error, a request gets a plain 401."""


@dataclass(frozen=True, slots=True)
class TokenResult:
    user: UserInfo
    audiences: tuple[str, ...]  # the asked audiences the token is good for


@runtime_checkable
class AudienceTokenAuthenticator(Protocol):
    @property
    def implicit_audiences(self) -> tuple[str, ...]:
        """The audiences a token is checked against when nobody asks for others."""

    def review_token(self, token: str, audiences: Sequence[str] | None
                     ) -> Awaitable[TokenResult | None]:
        """The token's user for `audiences` (None: the implicit ones). None when the
        token is not this authenticator's; TokenRejected when it is but is not good."""


def intersect(have: Sequence[str], want: Sequence[str]) -> tuple[str, ...]:
    """Audiences.Intersect: those of `have` also in `want`, in `have`'s order."""
    return tuple(a for a in have if a in want)
