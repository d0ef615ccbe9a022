"""A programme's stream as a decider: its definition, quota and decrees, folded from its events.

State (`ProgrammeStream`): the programme's facts (from ProgrammeDefined), its quota state
(quota_state.py), what the stream says about each worker it decided on (nomination, identity,
rank), who a decree ever fixed, and the decrees issued with the list each one fixed. Everything
a decision needs about the programme comes from here, not from read models; only a worker's
holds in *other* programmes come with the command (programme_commands.py).

`evolve` advances the state in place (a programme holds tens of thousands of workers: copying per
event would cost more than deciding), so it never touches `EMPTY`, and a `Snapshot` (a state kept
by a cache of loaded streams) is copied before anything is applied to it, unless the snapshot was
made to be folded (`owned`: its state is a copy made for the one fold that reads it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from libs.events.contracts import allocation as wire
from libs.eventstore.decider import Recorded
from services.allocation.domain.programme_facts import ProgrammeFacts, ProgrammeNotDefined, facts_of
from services.allocation.domain.quota_state import QuotaState
from services.allocation.domain.quota_wire import WorkerFacts, to_domain, worker_facts_of
from services.allocation.domain.sector import QuotaCell


@dataclass(frozen=True, slots=True)
class IssuedDecree:
    """A decree as its stream recorded it, with the seats it fixed (worker -> cell)."""

    event: wire.DecreeIssued
    listed: dict[str, QuotaCell]


@dataclass
class ProgrammeStream:
    """What a programme's stream says (see the module doc)."""

    facts: ProgrammeFacts | None = None
    definition: dict[str, Any] | None = None  # the ProgrammeDefined payload, as recorded
    quota: QuotaState = field(default_factory=QuotaState)
    workers: dict[str, WorkerFacts] = field(default_factory=dict)
    decreed: set[str] = field(default_factory=set)  # workers an AssignmentDecreed ever named
    decrees: list[IssuedDecree] = field(default_factory=list)
    version: int = 0  # events folded: the stream version this state reflects

    def copy(self) -> ProgrammeStream:
        """An independent copy (facts and events are immutable: containers are copied)."""
        return ProgrammeStream(
            facts=self.facts,
            definition=self.definition,
            quota=self.quota.copy(),
            workers=dict(self.workers),
            decreed=set(self.decreed),
            decrees=list(self.decrees),
            version=self.version,
        )

    def defined(self, programme_code: str) -> ProgrammeFacts:
        """The programme's facts; ProgrammeNotDefined before its definition."""
        if self.facts is None:
            raise ProgrammeNotDefined(programme_code)
        return self.facts

    def seat_is_final(self, worker_id: str) -> bool:
        """True when the worker's seat here can no longer be displaced: the programme needs no
        decree, or a decree fixed them and they still hold the seat."""
        facts = self.facts
        if facts is not None and not facts.requires_decree:
            return True
        return worker_id in self.decreed and worker_id in self.quota.assigned


EMPTY = ProgrammeStream()
"""The state of a programme never defined (never changed: `evolve` starts a new one)."""


@dataclass(frozen=True)
class Snapshot(Recorded):
    """A state a cache of loaded streams kept, handed to the kit in place of the events it folds
    (the kit folds a stream from its first event; a snapshot stands for all of them)."""

    state: ProgrammeStream = field(default_factory=ProgrammeStream)
    owned: bool = False  # `state` is this snapshot's own copy: folding it changes it, uncopied


def evolve(state: ProgrammeStream, recorded: Recorded) -> ProgrammeStream:
    """The state after one recorded event (in place, see the module doc)."""
    if isinstance(recorded, Snapshot):
        return recorded.state if recorded.owned else recorded.state.copy()
    if state is EMPTY:
        state = ProgrammeStream()
    state.version += 1
    event = recorded.event
    if isinstance(event, wire.ProgrammeDefined):
        state.facts = facts_of(event)
        state.definition = recorded.envelope.payload
    elif isinstance(event, wire.AssignmentDecreed):
        state.decreed.add(event.worker_id)
    elif isinstance(event, wire.DecreeIssued):
        # The list it fixed is who held a seat when it was recorded (as its projection snapshots).
        state.decrees.append(IssuedDecree(event, dict(state.quota.assigned)))
    worker_id = getattr(event, "worker_id", None)
    if isinstance(worker_id, str):
        facts = worker_facts_of(event, state.workers.get(worker_id))
        if facts is not None:
            state.workers[worker_id] = facts
    decision = to_domain(event)
    if decision is not None:
        state.quota.apply(decision)
    return state
