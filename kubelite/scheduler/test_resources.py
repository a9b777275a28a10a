import pytest

from kubelite.scheduler.resources import host_ports, is_extended, is_scalar, pod_requests


def container(cpu: str | None = None, memory: str | None = None, **extra: object) -> dict[str, object]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return {"name": "c", "resources": {"requests": requests}, **extra}


@pytest.mark.parametrize("spec, cpu, memory", [
    ({"containers": [container("1", "1Gi"), container("500m", "1Gi")]}, 1500, 2 * 2**30),
    # an init container runs alone: the pod needs the larger of it and the app containers
    ({"initContainers": [container("2", "1Mi")], "containers": [container("1", "1Gi")]}, 2000, 2**30),
    # a sidecar keeps running, so it adds to the app containers and to later init containers
    ({"initContainers": [container("1", restartPolicy="Always"), container("1500m")],
      "containers": [container("1")]}, 2500, 0),
    ({"containers": [container("1")], "overhead": {"cpu": "250m", "memory": "10Mi"}}, 1250, 10 * 2**20),
], ids=["sum-of-containers", "init-container-peak", "sidecar-adds", "overhead"])
def test_pod_requests_follow_upstream(spec: dict[str, object], cpu: int, memory: int) -> None:
    got = pod_requests({"spec": spec})
    assert (got["cpu"], got["memory"]) == (cpu, memory)


def test_non_zero_requests_default_unset_cpu_and_memory() -> None:
    got = pod_requests({"spec": {"containers": [container(), container("1")]}}, non_zero=True)
    assert (got["cpu"], got["memory"]) == (1100, 2 * 200 * 2**20)


def test_host_ports_default_protocol_and_ip() -> None:
    pod = {"spec": {"containers": [{"ports": [{"containerPort": 80, "hostPort": 8080},
                                              {"containerPort": 53}]}]}}
    assert host_ports(pod) == [("TCP", "0.0.0.0", 8080)]


@pytest.mark.parametrize("name, extended, scalar", [
    ("cpu", False, False),
    ("pods", False, False),
    ("example.com/foo", True, True),
    ("nvidia.com/gpu", True, True),
    ("kubernetes.io/something", False, True),
    ("subdomain.kubernetes.io/something", False, True),
    ("hugepages-2Mi", False, True),
    ("attachable-volumes-csi-x", False, True),
    ("requests.example.com/foo", False, False),
    ("example.com/bad name", False, False),
], ids=["cpu", "pods", "extended", "gpu", "kubernetes-io", "kubernetes-io-subdomain", "hugepages",
        "attachable-volumes", "quota-prefixed", "not-a-qualified-name"])
def test_scalar_resources_are_named_as_upstream(name: str, extended: bool, scalar: bool) -> None:
    assert (is_extended(name), is_scalar(name)) == (extended, scalar)


def test_pod_requests_count_scalar_resources_in_whole_units() -> None:
    spec = {"initContainers": [{"name": "i", "resources": {"requests": {"example.com/foo": "3"}}}],
            "containers": [{"name": "a", "resources": {"requests": {"example.com/foo": "1", "hugepages-2Mi": "4Mi"}}},
                           {"name": "b", "resources": {"requests": {"example.com/foo": "1", "pods": "5"}}}]}
    requests = pod_requests({"spec": spec})
    assert (requests["example.com/foo"], requests["hugepages-2Mi"]) == (3, 4 * 2**20)
    assert "pods" not in requests
