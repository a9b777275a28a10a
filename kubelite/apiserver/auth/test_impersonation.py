"""What impersonation headers ask for and whom the request then acts as (upstream's
impersonation_test.go cases)."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict

from kubelite.apiserver.auth.attributes import Attributes, Decision
from kubelite.apiserver.auth.impersonation import Ask, asks, impersonate
from kubelite.apiserver.auth.user import UserInfo
from kubelite.machinery import errors

ADMIN = UserInfo("admin", groups=("system:masters",))


def headers(*pairs: tuple[str, str]) -> CIMultiDict[str]:
    return CIMultiDict(pairs)


@pytest.mark.parametrize("given, wanted", [
    ((), []),
    ((("Impersonate-User", "jane"),), [Ask("User", "jane")]),
    ((("Impersonate-User", "system:serviceaccount:web:robot"),),
     [Ask("ServiceAccount", "robot", "web")]),
    ((("Impersonate-User", "system:serviceaccount:web"),),
     [Ask("User", "system:serviceaccount:web")]),
    ((("Impersonate-User", "jane"), ("Impersonate-Group", "a"), ("Impersonate-Group", "b")),
     [Ask("User", "jane"), Ask("Group", "a"), Ask("Group", "b")]),
    ((("Impersonate-User", "jane"), ("Impersonate-Extra-Scopes", "view"),
      ("Impersonate-Extra-Scopes", "edit"), ("Impersonate-Uid", "42")),
     [Ask("User", "jane"),
      Ask("UserExtra", "view", api_version="authentication.k8s.io/v1", field_path="scopes"),
      Ask("UserExtra", "edit", api_version="authentication.k8s.io/v1", field_path="scopes"),
      Ask("UID", "42", api_version="authentication.k8s.io/v1")]),
    ((("Impersonate-User", "jane"), ("Impersonate-Extra-Example.com%2fteam", "x")),
     [Ask("User", "jane"), Ask("UserExtra", "x", api_version="authentication.k8s.io/v1",
                               field_path="example.com/team")]),
], ids=["none", "user", "service-account", "not-a-service-account", "groups",
        "extras-and-uid", "escaped-extra-key"])
def test_asks(given: tuple[tuple[str, str], ...], wanted: list[Ask]) -> None:
    assert asks(headers(*given)) == wanted


@pytest.mark.parametrize("given", [
    (("Impersonate-Group", "a"),), (("Impersonate-Uid", "1"),),
    (("Impersonate-Extra-Scopes", "x"),)], ids=["group", "uid", "extra"])
def test_anything_without_a_user_is_refused(given: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(errors.InternalError, match="without impersonating a user"):
        asks(headers(*given))


class Allow:
    async def authorize(self, attrs: Attributes) -> tuple[Decision, str]:
        return Decision.ALLOW, ""


@pytest.mark.parametrize("given, user", [
    ((("Impersonate-User", "jane"),), UserInfo("jane", groups=("system:authenticated",))),
    ((("Impersonate-User", "jane"), ("Impersonate-Group", "devs")),
     UserInfo("jane", groups=("devs", "system:authenticated"))),
    ((("Impersonate-User", "jane"), ("Impersonate-Group", "system:unauthenticated")),
     UserInfo("jane", groups=("system:unauthenticated",))),
    ((("Impersonate-User", "system:anonymous"),),
     UserInfo("system:anonymous", groups=("system:unauthenticated",))),
    ((("Impersonate-User", "system:serviceaccount:web:robot"),),
     UserInfo("system:serviceaccount:web:robot", groups=(
         "system:serviceaccounts", "system:serviceaccounts:web", "system:authenticated"))),
    ((("Impersonate-User", "system:serviceaccount:web:robot"), ("Impersonate-Group", "x")),
     UserInfo("system:serviceaccount:web:robot", groups=("x", "system:authenticated"))),
    ((("Impersonate-User", "jane"), ("Impersonate-Uid", "7"), ("Impersonate-Extra-A", "1")),
     UserInfo("jane", uid="7", groups=("system:authenticated",), extra={"a": ("1",)})),
], ids=["user", "group", "unauthenticated-group", "anonymous", "service-account",
        "service-account-groups-given", "uid-and-extra"])
async def test_the_impersonated_user(given: tuple[tuple[str, str], ...], user: UserInfo) -> None:
    assert await impersonate(headers(*given), ADMIN, Allow()) == user


async def test_no_headers_keep_the_requester() -> None:
    assert await impersonate(headers(), ADMIN, Allow()) is ADMIN
