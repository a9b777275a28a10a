"""Who a container runs as: the image's User or runAsUser, resolved in its rootfs.

containerd's CRI plugin (WithUser, WithUserID, WithAdditionalGIDs in
pkg/oci/spec_opts.go) resolves a user the way here: a numeric uid stands as it is
(its gid from the rootfs's /etc/passwd if it is listed there, else 0); a name must
be in /etc/passwd; "user:group" takes the group by number or from /etc/group; the
additional gids are the groups of /etc/group that list the user by name, plus the
pod's supplementalGroups, after the primary group itself. The files are read from the container's rootfs, never
following a symlink out of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kubelite.kubelet.cri import CRIError


@dataclass(frozen=True, slots=True)
class User:
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()
    name: str = ""


@dataclass(frozen=True, slots=True)
class PasswdEntry:
    name: str
    uid: int
    gid: int


@dataclass(frozen=True, slots=True)
class GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


def parse_passwd(text: str) -> list[PasswdEntry]:
    entries = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 4 or line.startswith("#"):
            continue
        try:
            entries.append(PasswdEntry(fields[0], int(fields[2]), int(fields[3])))
        except ValueError:
            continue  # a malformed line is skipped, as libc's getpwent does
    return entries


def parse_group(text: str) -> list[GroupEntry]:
    entries = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) < 3 or line.startswith("#"):
            continue
        try:
            members = tuple(m for m in fields[3].split(",") if m) if len(fields) > 3 else ()
            entries.append(GroupEntry(fields[0], int(fields[2]), members))
        except ValueError:
            continue
    return entries


def resolve_user(
    spec: str,
    passwd: list[PasswdEntry],
    groups: list[GroupEntry],
    *,
    supplemental: tuple[int, ...] = (),
    run_as_group: int | None = None,
) -> User:
    """The user a spec names ("", "1000", "app", "1000:1000", "app:staff").

    Raises CRIError (CreateContainerConfigError) for a name the rootfs does not know.
    """
    user_part, _, group_part = spec.partition(":")
    entry: PasswdEntry | None
    if user_part == "":
        entry = next((e for e in passwd if e.uid == 0), None)
        uid, gid, name = 0, 0, entry.name if entry else ""
    elif user_part.isdigit():
        uid = int(user_part)
        entry = next((e for e in passwd if e.uid == uid), None)
        gid, name = (entry.gid, entry.name) if entry else (0, "")
    else:
        entry = next((e for e in passwd if e.name == user_part), None)
        if entry is None:
            raise CRIError(
                f"unable to find user {user_part}: no matching entries in passwd file",
                "CreateContainerConfigError",
            )
        uid, gid, name = entry.uid, entry.gid, entry.name
    if group_part:
        if group_part.isdigit():
            gid = int(group_part)
        else:
            group = next((g for g in groups if g.name == group_part), None)
            if group is None:
                raise CRIError(
                    f"unable to find group {group_part}: no matching entries in group file",
                    "CreateContainerConfigError",
                )
            gid = group.gid
    if run_as_group is not None:
        gid = run_as_group
    # the primary group first, as containerd lists it since Kubernetes 1.31's
    # SupplementalGroupsPolicy work (`id` shows it among the groups)
    additional = [gid]
    additional += [g.gid for g in groups if name and name in g.members and g.gid != gid]
    for extra in supplemental:
        if extra not in additional:
            additional.append(extra)
    return User(uid=uid, gid=gid, additional_gids=tuple(additional), name=name)


def read_rootfs_file(rootfs: Path, relative: str) -> str:
    """A file of the rootfs, or "" when it is missing or a symlink (which could
    point out of the rootfs, to the node's own /etc/passwd)."""
    path = rootfs / relative
    try:
        if path.is_symlink() or not path.is_file():
            return ""
        return path.read_text(errors="replace")
    except OSError:
        return ""


def lookup_user(
    rootfs: Path,
    spec: str,
    *,
    supplemental: tuple[int, ...] = (),
    run_as_group: int | None = None,
) -> User:
    return resolve_user(
        spec,
        parse_passwd(read_rootfs_file(rootfs, "etc/passwd")),
        parse_group(read_rootfs_file(rootfs, "etc/group")),
        supplemental=supplemental,
        run_as_group=run_as_group,
    )
