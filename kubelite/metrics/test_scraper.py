from __future__ import annotations

from typing import Any

import pytest

from kubelite.api.kubelet_endpoint import kubelet_url


def node(annotations: dict[str, str] | None = None, addresses: tuple[tuple[str, str], ...] = (),
         port: int | None = 10250) -> dict[str, Any]:
    status: dict[str, Any] = {"addresses": [{"type": t, "address": a} for t, a in addresses]}
    if port is not None:
        status["daemonEndpoints"] = {"kubeletEndpoint": {"Port": port}}
    return {"metadata": {"name": "n", "annotations": annotations or {}}, "status": status}


@pytest.mark.parametrize("obj, expected", [
    pytest.param(node({"kubelite.io/kubelet-url": "http://127.0.0.1:4000/nodes/n/"},
                      (("InternalIP", "10.0.0.1"),)),
                 "http://127.0.0.1:4000/nodes/n", id="advertised-url-wins"),
    pytest.param(node(addresses=(("InternalIP", "10.0.0.1"), ("Hostname", "n1"))),
                 "https://10.0.0.1:10250", id="internal-ip-preferred"),
    pytest.param(node(addresses=(("Hostname", "n1"),)), "https://n1:10250",
                 id="hostname-when-no-ip"),
    pytest.param(node(addresses=(("ExternalIP", "1.2.3.4"), ("InternalIP", "10.0.0.1"))),
                 "https://10.0.0.1:10250", id="internal-before-external"),
    pytest.param(node(addresses=(("InternalIP", "fd00::1"),)), "https://[fd00::1]:10250",
                 id="ipv6-bracketed"),
    pytest.param(node(addresses=(("InternalIP", "10.0.0.1"),), port=None), None,
                 id="no-kubelet-port"),
    pytest.param(node(), None, id="no-address"),
])
def test_a_kubelet_is_found_where_its_node_says(obj: dict[str, Any],
                                               expected: str | None) -> None:
    assert kubelet_url(obj) == expected
