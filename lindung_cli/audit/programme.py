"""A programme's stream replayed through allocation's own decider, up to an instant.

The audit reads allocation's events (cut at the instant asked about) and folds those of one
programme with allocation's `evolve` (services/allocation/domain/programme_stream.py): the state
it gets is the one allocation itself decides from, so the auditor's quota, budget, beneficiary
list and decree lists are allocation's rules, not second copies of them.
"""

from __future__ import annotations

from collections.abc import Iterable

from libs.events.catalog import decode
from libs.events.envelope import Envelope
from libs.eventstore.decider import Recorded
from services.allocation.domain.programme_stream import EMPTY, ProgrammeStream, evolve

# The events of a programme's stream that change its quota, its budget or its decrees.
PROGRAMME_TYPES = (
    "ProgrammeDefined",
    "QuotaAssigned",
    "QuotaChanged",
    "BudgetChanged",
    "DecreeIssued",
    "QuotaDeclined",
    "QuotaReleased",
    "QuotaUnseated",
    "QuotaWaitlisted",
)


def replay_programme(envelopes: Iterable[Envelope], programme_code: str) -> ProgrammeStream | None:
    """The programme's state after `envelopes` (allocation events in log order), as allocation
    folds it; None when the programme was not defined by then. A stream allocation would not
    have written raises allocation's QuotaError."""
    state = EMPTY
    for envelope in envelopes:
        if envelope.event_type not in PROGRAMME_TYPES:
            continue
        event = decode(envelope)
        if getattr(event, "programme_code", None) == programme_code:
            state = evolve(state, Recorded(event, envelope))
    return None if state.facts is None else state
