from __future__ import annotations

from typing import Any

import pytest

from kubelite.kubelet import cri
from kubelite.kubelet.runtime.runc.spec import (
    ALL_CAPABILITIES,
    DEFAULT_CAPABILITIES,
    DEFAULT_MASKED_PATHS,
    DEFAULT_PATH,
    SandboxView,
    build_spec,
    capability_set,
    process_args,
    process_env,
)
from kubelite.kubelet.runtime.runc.users import User

IMAGE = {"Entrypoint": ["/entry"], "Cmd": ["cmd-arg"]}


@pytest.mark.parametrize(
    "image, command, args, argv",
    [
        (IMAGE, (), (), ["/entry", "cmd-arg"]),
        (IMAGE, ("/bin/app",), (), ["/bin/app"]),
        (IMAGE, (), ("x", "y"), ["/entry", "x", "y"]),
        (IMAGE, ("/bin/app",), ("x",), ["/bin/app", "x"]),
        ({"Cmd": ["sh"]}, (), ("-c", "true"), ["-c", "true"]),
        ({}, (), (), []),
    ],
    ids=["image-only", "command-drops-cmd", "args-replace-cmd", "command-and-args",
         "args-without-entrypoint", "nothing"],
)
def test_argv_follows_kuberuntimes_command_and_args_rules(
    image: dict[str, Any], command: tuple[str, ...], args: tuple[str, ...], argv: list[str]
) -> None:
    assert process_args(command, args, image) == argv


@pytest.mark.parametrize(
    "image_env, envs, expected",
    [
        ((), (), ["HOSTNAME=pod", f"PATH={DEFAULT_PATH}"]),
        (("PATH=/bin", "A=1"), (("A", "2"), ("B", "3")), ["HOSTNAME=pod", "PATH=/bin", "A=2", "B=3"]),
        (("A=x=y", "broken"), (("HOSTNAME", "mine"),), ["HOSTNAME=mine", "A=x=y", f"PATH={DEFAULT_PATH}"]),
    ],
    ids=["defaults", "config-overrides-image-in-place", "values-with-equals-and-own-hostname"],
)
def test_env_is_hostname_then_image_then_config(
    image_env: tuple[str, ...], envs: tuple[tuple[str, str], ...], expected: list[str]
) -> None:
    assert process_env("pod", image_env, envs) == expected


@pytest.mark.parametrize(
    "add, drop, expected",
    [
        ((), (), list(DEFAULT_CAPABILITIES)),
        (("NET_ADMIN",), ("CHOWN",), [c for c in DEFAULT_CAPABILITIES if c != "CAP_CHOWN"] + ["CAP_NET_ADMIN"]),
        (("ALL",), ("CHOWN",), [c for c in ALL_CAPABILITIES if c != "CAP_CHOWN"]),
        (("NET_BIND_SERVICE",), ("ALL",), ["CAP_NET_BIND_SERVICE"]),
        (("cap_sys_time",), (), list(DEFAULT_CAPABILITIES) + ["CAP_SYS_TIME"]),
    ],
    ids=["default", "add-and-drop", "all-but-one", "none-but-one", "prefixed-lowercase"],
)
def test_capabilities_as_containerd_adds_and_drops_them(
    add: tuple[str, ...], drop: tuple[str, ...], expected: list[str]
) -> None:
    caps = cri.Capabilities(add_capabilities=add, drop_capabilities=drop)
    assert capability_set(caps, privileged=False) == expected


VIEW = SandboxView(
    net_path="/s/ns/net", ipc_path="/s/ns/ipc", uts_path="/s/ns/uts", hostname="pod",
    files={"/etc/hosts": "/s/hosts", "/etc/resolv.conf": "/s/resolv.conf", "/dev/shm": "/s/shm"},
)


def spec_of(view: SandboxView = VIEW, **config: Any) -> dict[str, Any]:
    return build_spec(
        config=cri.ContainerConfig(metadata=cri.ContainerMetadata("c"), image="img", **config),
        image_config={"Cmd": ["sh"], "WorkingDir": "/srv"},
        view=view,
        rootfs="/r",
        user=User(uid=1000, gid=1000, additional_gids=(5,)),
        cgroups_path="/kubelite/pod1/c1",
    )


def test_a_plain_container_joins_the_pods_namespaces_and_is_confined() -> None:
    spec = spec_of(resources=cri.Resources(cpu_shares=512, cpu_quota=50000, cpu_period=100000,
                                           memory_limit_in_bytes=1 << 26, oom_score_adj=900))
    assert spec["linux"]["namespaces"] == [
        {"type": "mount"}, {"type": "pid"},
        {"type": "network", "path": "/s/ns/net"}, {"type": "ipc", "path": "/s/ns/ipc"},
        {"type": "uts", "path": "/s/ns/uts"},
    ]
    assert spec["process"]["user"] == {"uid": 1000, "gid": 1000, "additionalGids": [5]}
    assert spec["process"]["cwd"] == "/srv"
    assert spec["process"]["oomScoreAdj"] == 900
    assert spec["linux"]["resources"] == {
        "devices": [{"allow": False, "access": "rwm"}],
        "cpu": {"shares": 512, "quota": 50000, "period": 100000},
        "memory": {"limit": 1 << 26},
    }
    assert spec["linux"]["cgroupsPath"] == "/kubelite/pod1/c1"
    assert spec["linux"]["maskedPaths"] == list(DEFAULT_MASKED_PATHS)
    sys_mount = next(m for m in spec["mounts"] if m["destination"] == "/sys")
    assert "ro" in sys_mount["options"]
    assert spec["root"] == {"path": "/r", "readonly": False}


def test_host_namespaces_are_not_listed() -> None:
    view = SandboxView(net_path=None, ipc_path=None, uts_path=None, hostname="node", host_pid=True)
    assert spec_of(view)["linux"]["namespaces"] == [{"type": "mount"}]


def test_privileged_gets_every_capability_no_masks_and_writable_sys() -> None:
    spec = spec_of(security_context=cri.SecurityContext(privileged=True))
    assert spec["process"]["capabilities"]["bounding"] == list(ALL_CAPABILITIES)
    some = ["CAP_CHOWN", "CAP_SYS_ADMIN"]
    assert capability_set(cri.Capabilities(), privileged=True, available=some) == some
    assert capability_set(cri.Capabilities(add_capabilities=("ALL",)), privileged=False, available=some) == some
    assert "maskedPaths" not in spec["linux"] and "readonlyPaths" not in spec["linux"]
    assert spec["linux"]["resources"]["devices"] == [{"allow": True, "access": "rwm"}]
    sys_mount = next(m for m in spec["mounts"] if m["destination"] == "/sys")
    assert "rw" in sys_mount["options"]


def test_cri_mounts_are_recursive_binds_and_win_over_the_pods_files() -> None:
    spec = spec_of(
        mounts=(
            cri.Mount("/data", "/host/data", readonly=True),
            cri.Mount("/etc/hosts", "/kubelet/etc-hosts"),
            cri.Mount("/shared", "/host/shared", propagation="PROPAGATION_BIDIRECTIONAL"),
        ),
        security_context=cri.SecurityContext(readonly_rootfs=True),
    )
    by_destination = {m["destination"]: m for m in spec["mounts"]}
    assert by_destination["/data"]["options"] == ["rbind", "rprivate", "ro"]
    assert by_destination["/etc/hosts"]["source"] == "/kubelet/etc-hosts"
    assert by_destination["/etc/resolv.conf"]["options"] == ["rbind", "rprivate", "ro"]
    assert by_destination["/dev/shm"]["source"] == "/s/shm"
    assert spec["linux"]["rootfsPropagation"] == "rshared"
    assert spec["root"]["readonly"] is True


def test_no_command_at_all_is_a_config_error() -> None:
    with pytest.raises(cri.CRIError) as raised:
        build_spec(
            config=cri.ContainerConfig(metadata=cri.ContainerMetadata("c"), image="img"),
            image_config={}, view=VIEW, rootfs="/r", user=User(0, 0), cgroups_path="/k/c",
        )
    assert raised.value.reason == "CreateContainerConfigError"


def test_unknown_propagation_is_rejected_by_name() -> None:
    with pytest.raises(cri.CRIError, match="PROPAGATION_SIDEWAYS"):
        spec_of(mounts=(cri.Mount("/x", "/y", propagation="PROPAGATION_SIDEWAYS"),))
