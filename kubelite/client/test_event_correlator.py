"""The correlator's arithmetic, checked against client-go's events_cache.go outcomes."""

from __future__ import annotations

from kubelite.client.event_correlator import COMBINED_PREFIX, Aggregator, SpamFilter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def event(name: str = "web", message: str = "m", reason: str = "SuccessfulCreate",
          component: str = "replicaset-controller") -> dict[str, object]:
    return {"source": {"component": component},
            "involvedObject": {"kind": "ReplicaSet", "namespace": "default", "name": name,
                               "uid": f"uid-{name}", "apiVersion": "apps/v1"},
            "type": "Normal", "reason": reason, "message": message}


def test_spam_filter_passes_a_burst_of_25_per_object_then_one_per_five_minutes() -> None:
    clock = FakeClock()
    spam = SpamFilter(clock=clock)
    assert [spam.is_spam(event(message=str(i))) for i in range(26)] == [False] * 25 + [True]
    assert not spam.is_spam(event(name="other"))  # another object has its own bucket
    clock.now += 299
    assert spam.is_spam(event())
    clock.now += 1
    assert not spam.is_spam(event())
    assert spam.is_spam(event())


def test_spam_filter_keys_on_source_too() -> None:
    spam = SpamFilter(clock=FakeClock())
    for _ in range(25):
        spam.is_spam(event())
    assert spam.is_spam(event())
    assert not spam.is_spam(event(component="deployment-controller"))


def test_the_tenth_different_message_of_one_reason_starts_an_aggregate() -> None:
    aggregator = Aggregator(clock=FakeClock())
    results = [aggregator.aggregate(event(message=f"Created pod: web-{i}")) for i in range(11)]
    assert [combined for _, combined in results] == [False] * 9 + [True, True]
    assert results[9][0]["message"] == COMBINED_PREFIX + "Created pod: web-9"
    assert results[0][0]["message"] == "Created pod: web-0"


def test_repeating_one_message_never_aggregates_and_other_reasons_count_apart() -> None:
    aggregator = Aggregator(clock=FakeClock())
    assert not any(aggregator.aggregate(event())[1] for _ in range(50))
    for i in range(9):
        aggregator.aggregate(event(message=str(i)))
    assert not aggregator.aggregate(event(message="x", reason="SuccessfulDelete"))[1]


def test_similar_messages_are_forgotten_after_ten_quiet_minutes() -> None:
    clock = FakeClock()
    aggregator = Aggregator(clock=clock)
    for i in range(9):
        aggregator.aggregate(event(message=str(i)))
    clock.now += 601
    assert not aggregator.aggregate(event(message="9"))[1]
