"""A programme's state kept small (it holds every worker of a province-year) and the cache of
states bounded: what is left out or shared must change no answer."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest

from libs.events.contracts.common import WorkerIdentity
from libs.eventstore.decider import Recorded
from services.allocation.adapters.stream_cache import ProgrammeStates, _Kept
from services.allocation.domain.programme_commands import programme_decider
from services.allocation.domain.programme_stream import ProgrammeStream, Snapshot, evolve
from services.allocation.domain.quota import decide_validated
from services.allocation.domain.quota_events import DecreeFixed
from services.allocation.domain.quota_wire import WorkerFacts
from tests.unit.allocation.factories import MEDAN_SAWIT, apply_all, opened, worker

IDENTITY = WorkerIdentity(nik="1271010101850001", full_name="Siti Aminah", birth_date="1985-01-01", sex="P")


def test_worker_facts_give_back_the_identity_they_were_given() -> None:
    facts = WorkerFacts("nom-1", "".join(["12.", "71"]), "".join(["saw", "it"]), 2, IDENTITY)
    assert facts.identity == IDENTITY
    assert facts.identity.model_dump() == IDENTITY.model_dump()  # type: ignore[union-attr]
    assert facts == WorkerFacts("nom-1", "12.71", "sawit", 2, IDENTITY)
    assert facts != WorkerFacts("nom-1", "12.71", "sawit", 3, IDENTITY)
    assert hash(facts) == hash(WorkerFacts("nom-1", "12.71", "sawit", 2, IDENTITY))
    assert facts.regency_code is WorkerFacts("nom-2", "12.71", "sawit", 1, None).regency_code  # shared
    assert WorkerFacts("nom-2", "12.71", "sawit", None, None).identity is None
    with pytest.raises(AttributeError):
        facts.decile = 1  # type: ignore[misc]


def test_seats_share_one_cell_and_ranks_are_kept_only_while_provisional() -> None:
    state = opened({MEDAN_SAWIT: 3}, affordable=3)
    for n in (1, 2):
        apply_all(state, decide_validated(state, worker(n)))
    cells = set(map(id, state.assigned.values()))
    assert len(cells) == 1 and len(state.ranked_seats[MEDAN_SAWIT]) == 2
    apply_all(state, [DecreeFixed("SK-1")])
    assert not state.provisional and state.ranked_seats == {}
    apply_all(state, decide_validated(state, worker(3, desil=1)))
    assert len(state.assigned) == 3 and state.ranked_seats == {}
    assert state.gives_way_to(worker(4, desil=1)) is None  # as with ranks kept: not provisional


def test_an_owned_snapshot_is_folded_into_without_a_copy_and_counts_versions() -> None:
    state = ProgrammeStream(version=7)
    last = cast(Any, None)
    owned = evolve(ProgrammeStream(), Snapshot(last, last, state=state, owned=True))
    assert owned is state
    copied = evolve(ProgrammeStream(), Snapshot(last, last, state=state))
    assert copied is not state and copied.version == 7


def _kept(version: int) -> _Kept:
    return _Kept(version, uuid.uuid4(), ProgrammeStream(version=version), cast(Recorded, None))


def test_the_cache_keeps_the_most_recently_used_programmes() -> None:
    states = ProgrammeStates(programme_decider(), capacity=2)
    states.committed({"programme-A": _kept(1), "programme-B": _kept(1)})
    states.committed({"programme-A": _kept(2)})  # A used again: B is now the oldest
    states.committed({"programme-C": _kept(1)})
    assert states.kept == ["programme-A", "programme-C"] and states.evictions == 1
    states.committed({"programme-A": _kept(1)})  # older than the one kept: not taken, but used
    assert states.kept == ["programme-C", "programme-A"]
    with pytest.raises(ValueError):
        ProgrammeStates(programme_decider(), capacity=0)
