"""A stream kind as a decider: its initial state, how an event changes it, what a command decides.

Functional event sourcing in three parts. Loading a stream is a fold of `evolve` over its
events; handling a command is load, `decide`, append with the version read. Deciding is plain
Python: a decider is unit-tested without any store, and the kit (libs/eventstore/kit.py) runs
every decider the same way, over a whole batch of commands for many streams.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope

S = TypeVar("S")
C = TypeVar("C")


@dataclass(frozen=True)
class Recorded:
    """One event of a stream: the domain event and the envelope it was recorded in (its id,
    version and time), personal fields clear."""

    event: DomainEvent
    envelope: Envelope


@dataclass(frozen=True)
class Decider(Generic[C, S]):
    """One kind of stream.

    `stream_of` names the stream a command is about; `decide` answers a command from the state
    of that stream with the events it records (none: nothing to record; a raised error: the
    command is refused); `evolve` applies one recorded event to a state. `initial` is the state of
    a stream with no events. Policies and settings are bound when the decider is built (a
    function of the service's configuration), never read from the environment.
    """

    kind: str
    initial: S
    evolve: Callable[[S, Recorded], S]
    decide: Callable[[C, S], Sequence[DomainEvent]]
    stream_of: Callable[[C], str]

    def fold(self, history: Iterable[Recorded], state: S | None = None) -> S:
        """The state after `history`, from `state` (the initial state when None)."""
        current = self.initial if state is None else state
        for recorded in history:
            current = self.evolve(current, recorded)
        return current
