"""The simulator's answers: when each is sent (seeded delays, repeats, late answers), and the
answer streams they are sent on, as a decider.

An answer is decided when a request is consumed and held until it is due (application/release.py);
sending it appends it to its request's stream (`bpjs-registration-{request_id}`,
`bpjs-deregistration-{request_id}`, `bpjs-payment-{payment_request_id}`, `bpjs-claim-{claim_id}`),
whose outbox the relay publishes. A stream holds every sending: each attempt's answer, and the
copies of an answer the simulator repeats.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from libs.events.contracts.base import DomainEvent
from libs.eventstore.decider import Decider, Recorded
from services.bpjs_simulator.domain.insurer import InsurerBehaviour, draw, happens


@dataclass(frozen=True)
class Delivery:
    """One sending of an answer: after `delay_ms`; `copy` 2 is the simulator repeating itself;
    `late` answers are held `late_delay_ms` longer, so answers sent after them overtake them."""

    delay_ms: int
    copy: int
    late: bool


def deliveries(behaviour: InsurerBehaviour, key: str) -> list[Delivery]:
    """When the answer named `key` is sent: once, or twice when the simulator repeats itself."""

    def delay(part: str) -> int:
        span = behaviour.max_delay_ms - behaviour.min_delay_ms
        return behaviour.min_delay_ms + (draw(behaviour.seed, f"delay:{part}:{key}") % (span + 1))

    late = happens(behaviour, behaviour.late_per_million, f"late:{key}")
    first = delay("first") + (behaviour.late_delay_ms if late else 0)
    sent = [Delivery(first, 1, late)]
    if happens(behaviour, behaviour.duplicate_per_million, f"duplicate:{key}"):
        sent.append(Delivery(first + delay("again"), 2, False))
    return sent


def answer_stream(kind: str, request_id: str) -> str:
    """The stream of the answers to one request (`kind`: registration, deregistration, payment,
    claim)."""
    return f"bpjs-{kind}-{request_id}"


@dataclass(frozen=True)
class SendAnswer:
    """Send an answer that fell due, in the business flow of the request it answers."""

    stream: str
    answer: DomainEvent
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None


def _counted(sent: int, recorded: Recorded) -> int:
    return sent + 1


def _send(command: SendAnswer, sent: int) -> list[DomainEvent]:
    # Every sending is recorded, repeats included: the chaos is the simulator's behaviour.
    return [command.answer]


def answer_decider() -> Decider[SendAnswer, int]:
    """The answer streams; the state is how many answers a stream has sent."""
    return Decider(kind="bpjs-answer", initial=0, evolve=_counted, decide=_send, stream_of=lambda c: c.stream)
