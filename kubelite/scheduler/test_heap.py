from __future__ import annotations

import pytest

from kubelite.scheduler.heap import KeyedHeap


def by_value(a: tuple[str, int], b: tuple[str, int]) -> bool:
    return a[1] < b[1]


def key_of(item: tuple[str, int]) -> str:
    return item[0]


def drain(heap: KeyedHeap[tuple[str, int]]) -> list[str]:
    out = []
    while (item := heap.pop(key_of)) is not None:
        out.append(item[0])
    return out


@pytest.mark.parametrize(("ops", "expected"), [
    ([("push", "a", 3), ("push", "b", 1), ("push", "c", 2)], ["b", "c", "a"]),
    ([("push", "a", 1), ("push", "b", 1), ("push", "c", 1)], ["a", "b", "c"]),
    ([("push", "a", 1), ("push", "b", 2), ("push", "a", 3)], ["b", "a"]),
    ([("push", "a", 1), ("push", "b", 2), ("remove", "a", 0)], ["b"]),
    ([("remove", "missing", 0), ("push", "a", 1)], ["a"]),
], ids=["ordered-by-less", "ties-in-push-order", "push-again-replaces",
        "remove", "remove-missing-is-a-no-op"])
def test_heap_pops_live_items_in_order(ops: list[tuple[str, str, int]],
                                       expected: list[str]) -> None:
    heap: KeyedHeap[tuple[str, int]] = KeyedHeap(less=by_value)
    for op, key, value in ops:
        if op == "push":
            heap.push(key, (key, value))
        else:
            heap.remove(key)
    assert len(heap) == len(expected)
    assert drain(heap) == expected and len(heap) == 0


def test_heap_compacts_after_many_replacements() -> None:
    heap: KeyedHeap[tuple[str, int]] = KeyedHeap(less=by_value)
    for value in range(1000):
        heap.push("only", ("only", -value))
    assert len(heap._heap) < 200  # dead entries do not pile up
    assert heap.peek() == ("only", -999)
