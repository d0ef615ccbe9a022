"""The reply to one message of a regency system (stream `inbound-<request>`): answered once.

A request redelivered after it was answered (or parked again) is not answered twice: the
stream already holds its reply, and deciding again records nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.registry import NominationAccepted, NominationRejected
from libs.eventstore.decider import Decider, Recorded


def reply_stream(request_id: uuid.UUID | str) -> str:
    """The stream of the reply to one request (its event id, or where it lay on the topic)."""
    return f"inbound-{request_id}"


@dataclass(frozen=True)
class Reply:
    """Answer the request of `stream` with `reply`."""

    stream: str
    reply: NominationAccepted | NominationRejected


def _evolve(answered: bool, recorded: Recorded) -> bool:
    return True


def _decide(command: Reply, answered: bool) -> list[DomainEvent]:
    return [] if answered else [command.reply]


def reply_decider() -> Decider[Reply, bool]:
    """The reply stream's decider: its state is whether the request was answered."""
    return Decider(kind="reply", initial=False, evolve=_evolve, decide=_decide, stream_of=lambda c: c.stream)
