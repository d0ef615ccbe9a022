"""Events of the claims service."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Reason, Rupiah


class ClaimRecorded(DomainEvent):
    """A paid claim entered the claims ledger (once per claim id)."""

    event_type = "ClaimRecorded"
    topic = topics.CLAIMS

    claim_id: str
    worker_id: str | None
    kpj: str
    programme_code: str | None
    regency_code: str | None
    programme: Literal["JKK", "JKM"]
    benefit_kind: str
    incident_date: date
    paid_date: date
    amount: Rupiah


class ClaimFlagged(DomainEvent):
    """A recorded claim needs a look: outside coverage, unknown participant, too high..."""

    event_type = "ClaimFlagged"
    topic = topics.CLAIMS

    claim_id: str
    worker_id: str | None
    kpj: str
    reasons: list[Reason] = Field(min_length=1)
