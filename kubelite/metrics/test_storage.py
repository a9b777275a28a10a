from __future__ import annotations

import pytest

from kubelite.metrics.decode import NodeScrape, Point, decode
from kubelite.metrics.storage import MetricsStorage, Usage, usage_between

S = 1_000_000_000  # nanoseconds in a second


@pytest.mark.parametrize("last, prev, expected", [
    pytest.param(Point(20000, 15 * S, 100), Point(10000, 10 * S, 50),
                 Usage(20.0, 10.0, 500_000_000, 100), id="half-a-core-over-ten-seconds"),
    pytest.param(Point(11500, 3 * S, 7), Point(10000, 0, 9), Usage(11.5, 1.5, 2 * S, 7),
                 id="memory-is-the-last-working-set"),
    pytest.param(Point(20000, 5 * S, 1), Point(10000, 6 * S, 1), None,
                 id="counter-went-down"),
    pytest.param(Point(10000, 6 * S, 1), Point(10000, 5 * S, 1), None, id="no-window"),
    pytest.param(Point(20000, 5 * S, 1), Point(10000, 5 * S, 1), Usage(20.0, 10.0, 0, 1),
                 id="idle"),
    pytest.param(Point(1_700_000_000_200, S + S // 5, 1), Point(1_700_000_000_000, S, 1),
                 Usage(1_700_000_000.2, 0.2, S, 1), id="exact-over-a-short-window"),
    pytest.param(Point(3000, 1, 1), Point(0, 0, 1), Usage(3.0, 3.0, 0, 1),
                 id="rounds-to-the-nearest-nanocore"),
])
def test_usage_is_the_cpu_rate_between_two_points(last: Point, prev: Point,
                                                  expected: Usage | None) -> None:
    assert usage_between(last, prev) == expected


def scrape(time: float, cpu_seconds: float, *,
           containers: dict[str, tuple[float, float]] | None = None) -> NodeScrape:
    """A node's scrape at `time`; containers: pod -> (cpu seconds, start time)."""
    return NodeScrape(Point(int(time * 1000), round(cpu_seconds * S), 1000),
                      {("ns", pod, "app"): Point(int(time * 1000), round(c * S), 10, s)
                       for pod, (c, s) in (containers or {}).items()})


def test_a_node_has_usage_from_its_second_scrape_on() -> None:
    storage = MetricsStorage()
    storage.store({"n": scrape(10.0, 100.0)})
    assert storage.node_usage("n") is None
    storage.store({"n": scrape(20.0, 105.0)})
    assert storage.node_usage("n") == Usage(20.0, 10.0, 500_000_000, 1000)


def test_a_repeated_point_keeps_the_previous_one() -> None:
    storage = MetricsStorage()
    storage.store({"n": scrape(10.0, 100.0)})
    storage.store({"n": scrape(20.0, 105.0)})
    storage.store({"n": scrape(20.0, 105.0)})  # the kubelet had no newer stats
    assert storage.node_usage("n") == Usage(20.0, 10.0, 500_000_000, 1000)


def test_a_node_missing_from_a_round_is_forgotten() -> None:
    storage = MetricsStorage()
    storage.store({"n": scrape(10.0, 100.0)})
    storage.store({"n": scrape(20.0, 105.0)})
    storage.store({})
    assert storage.node_usage("n") is None
    storage.store({"n": scrape(30.0, 110.0)})
    assert storage.node_usage("n") is None


def test_a_restarted_container_needs_two_new_points() -> None:
    storage = MetricsStorage()
    storage.store({"n": scrape(10.0, 1, containers={"p": (5.0, 1.0)})})
    storage.store({"n": scrape(20.0, 2, containers={"p": (7.0, 1.0)})})
    usage = storage.pod_usage("ns", "p")
    assert usage is not None and usage.containers[0][1].nanocores == 200_000_000
    storage.store({"n": scrape(30.0, 3, containers={"p": (1.0, 25.0)})})
    assert storage.pod_usage("ns", "p") is None
    storage.store({"n": scrape(40.0, 4, containers={"p": (3.0, 25.0)})})
    usage = storage.pod_usage("ns", "p")
    assert usage is not None and usage.containers[0][1].nanocores == 200_000_000


@pytest.mark.parametrize("age, nanocores", [
    (9.9, None), (10.0, 200_000_000), (14.9, 134_228_188), (15.0, None)],
    ids=["too-young-for-a-rate", "ten-seconds-old", "within-a-resolution",
         "older-than-a-resolution"])
def test_a_fresh_container_has_a_rate_from_its_start_at_its_first_scrape(
        age: float, nanocores: int | None) -> None:
    storage = MetricsStorage(resolution=15.0)
    storage.store({"n": scrape(100.0, 1, containers={"p": (2.0, 100.0 - age)})})
    usage = storage.pod_usage("ns", "p")
    assert (usage.containers[0][1].nanocores if usage else None) == nanocores
    if usage:
        assert usage.window == pytest.approx(age)


def test_a_pod_has_metrics_only_when_every_container_has_a_rate() -> None:
    storage = MetricsStorage()
    first = NodeScrape(None, {("ns", "p", "a"): Point(10000, 0, 1)})
    second = NodeScrape(None, {("ns", "p", "a"): Point(20000, S, 1),
                               ("ns", "p", "b"): Point(20000, 0, 1)})
    storage.store({"n": first})
    storage.store({"n": second})
    assert storage.pod_usage("ns", "p") is None
    storage.store({"n": NodeScrape(None, {("ns", "p", "a"): Point(30000, 2 * S, 1),
                                          ("ns", "p", "b"): Point(30000, S, 1)})})
    usage = storage.pod_usage("ns", "p")
    assert usage is not None
    assert [(name, u.nanocores) for name, u in usage.containers] == [
        ("a", 100_000_000), ("b", 100_000_000)]


DECODED = """\
container_cpu_usage_seconds_total{container="app",namespace="ns",pod="web"} 1.5 1700000000000
container_memory_working_set_bytes{container="app",namespace="ns",pod="web"} 6.7108864e+07 1700000000000
container_start_time_seconds{container="app",namespace="ns",pod="web"} 1.6999e+09 1700000000000
container_cpu_usage_seconds_total{container="half",namespace="ns",pod="web"} 1 1700000000000
container_memory_working_set_bytes{container="nostamp",namespace="ns",pod="web"} 1
container_cpu_usage_seconds_total{container="nostamp",namespace="ns",pod="web"} 1
container_cpu_usage_seconds_total{namespace="ns",pod="web"} 1 1700000000000
node_cpu_usage_seconds_total 357.35491 1700000000500
node_memory_working_set_bytes 1e+09 1700000000500
some_other_metric 1
"""


def test_decode_keeps_complete_points_only() -> None:
    out = decode(DECODED)
    assert out.node == Point(1700000000500, 357_354_910_000, 1_000_000_000)
    assert out.containers == {
        ("ns", "web", "app"): Point(1700000000000, 1_500_000_000, 64 << 20, 1.6999e9)}
