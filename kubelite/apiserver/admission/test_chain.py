"""The chain's own rules: order, `handles`, and what happens to claims."""

from __future__ import annotations

from typing import ClassVar

import pytest

from kubelite.api.catalogue import RESOURCES
from kubelite.apiserver.admission.chain import Attributes, Chain, Finish, Operation
from kubelite.machinery import errors

PODS = next(s for s in RESOURCES if (s.group, s.plural) == ("", "pods"))
CONFIGMAPS = next(s for s in RESOURCES if (s.group, s.plural) == ("", "configmaps"))


def attrs_for(spec=PODS, operation=Operation.CREATE) -> Attributes:
    return Attributes(spec, operation, "default", "x", {"metadata": {"name": "x"}})


class Labeler:
    """Adds its label to pods, in order, to show the chain's order."""
    name: ClassVar[str] = "Labeler"

    def __init__(self, label: str) -> None:
        self.label = label

    def handles(self, attrs: Attributes) -> bool:
        return attrs.is_resource("", "pods")

    async def admit(self, attrs: Attributes) -> None:
        attrs.obj.setdefault("seen", []).append(self.label)


class Claimer:
    """Claims a numbered ticket; `settled` records how each claim ended."""
    name: ClassVar[str] = "Claimer"

    def __init__(self, settled: list[tuple[str, bool]], ticket: str, *,
                 refuse: bool = False) -> None:
        self.settled = settled
        self.ticket = ticket
        self.refuse = refuse

    def handles(self, attrs: Attributes) -> bool:
        return attrs.operation is Operation.CREATE

    async def validate(self, attrs: Attributes) -> Finish | None:
        if self.refuse:
            raise errors.Forbidden(f"{self.ticket} refused")

        async def finish(stored: bool) -> None:
            self.settled.append((self.ticket, stored))
        return finish


async def test_admit_runs_the_mutating_plugins_in_order():
    chain = Chain(mutating=[Labeler("first"), Labeler("second")])
    attrs = attrs_for()
    await chain.admit(attrs)
    assert attrs.obj["seen"] == ["first", "second"]


async def test_a_plugin_sees_only_the_requests_it_handles():
    chain = Chain(mutating=[Labeler("first")])
    attrs = attrs_for(CONFIGMAPS)
    await chain.admit(attrs)
    assert "seen" not in attrs.obj


@pytest.mark.parametrize("stored", [True, False], ids=["stored", "not-stored"])
async def test_finish_settles_every_claim(stored):
    settled: list[tuple[str, bool]] = []
    chain = Chain(validating=[Claimer(settled, "a"), Claimer(settled, "b")])
    finish = await chain.validate(attrs_for())
    assert settled == []
    await finish(stored)
    assert sorted(settled) == [("a", stored), ("b", stored)]


async def test_a_refusal_gives_back_what_earlier_plugins_claimed():
    settled: list[tuple[str, bool]] = []
    chain = Chain(validating=[Claimer(settled, "a"), Claimer(settled, "b", refuse=True),
                              Claimer(settled, "c")])
    with pytest.raises(errors.Forbidden, match="b refused"):
        await chain.validate(attrs_for())
    assert settled == [("a", False)]  # c never ran, so claimed nothing


async def test_nothing_claimed_finishes_quietly():
    settled: list[tuple[str, bool]] = []
    chain = Chain(validating=[Claimer(settled, "a")])
    finish = await chain.validate(attrs_for(operation=Operation.UPDATE))
    await finish(True)
    assert settled == []
