from __future__ import annotations

from pathlib import Path

import pytest

from kubelite.kubelet.cri import CRIError
from kubelite.kubelet.runtime.runc.users import User, lookup_user, parse_group, parse_passwd, resolve_user

PASSWD = parse_passwd("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\nbad:x:y:z\n")
GROUPS = parse_group("root:x:0:\nstaff:x:50:app,other\napp:x:1001:\nwheel:x:10:root\n")


@pytest.mark.parametrize(
    "spec, user",
    [
        ("", User(0, 0, (0, 10), "root")),
        ("0", User(0, 0, (0, 10), "root")),
        ("1000", User(1000, 1001, (1001, 50), "app")),
        ("4242", User(4242, 0, (0,), "")),
        ("app", User(1000, 1001, (1001, 50), "app")),
        ("app:10", User(1000, 10, (10, 50), "app")),
        ("app:wheel", User(1000, 10, (10, 50), "app")),
        ("4242:4242", User(4242, 4242, (4242,), "")),
    ],
    ids=["default-root", "uid-0", "known-uid", "unknown-uid", "name", "name-gid",
         "name-group", "unknown-uid-gid"],
)
def test_user_resolves_as_containerd_does(spec: str, user: User) -> None:
    assert resolve_user(spec, PASSWD, GROUPS) == user


def test_run_as_group_and_supplemental_groups_apply() -> None:
    user = resolve_user("app", PASSWD, GROUPS, supplemental=(7, 50), run_as_group=3000)
    assert (user.gid, user.additional_gids) == (3000, (3000, 50, 7))


@pytest.mark.parametrize("spec", ["ghost", "app:ghosts"], ids=["user", "group"])
def test_unknown_names_are_config_errors(spec: str) -> None:
    with pytest.raises(CRIError) as raised:
        resolve_user(spec, PASSWD, GROUPS)
    assert raised.value.reason == "CreateContainerConfigError"


def test_a_symlinked_passwd_is_not_followed_out_of_the_rootfs(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "passwd").symlink_to("/etc/passwd")
    with pytest.raises(CRIError):
        lookup_user(tmp_path, "root:root")
