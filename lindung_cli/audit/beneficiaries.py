"""A programme's beneficiary list as it stood at an instant, and the check that each decree
(DecreeIssued) froze exactly that list; both from allocation's events, through allocation's rules.

A worker is on the list while they hold a seat in allocation's quota state (lindung_cli/audit/
programme.py replays the programme's stream through allocation's decider). A decree is checked
against the list allocation's stream says it fixed: who held a seat just before its own event
(the stream orders every quota decision and decree of a programme); the list "on the decree's
date" can differ when decisions followed the decree later that day. Lists are hashed in the
canonical form every decree uses (libs/decree_list.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from libs import decree_list
from libs.events.envelope import Envelope
from lindung_cli.audit.programme import replay_programme
from services.allocation.domain.sector import QuotaCell


@dataclass(frozen=True, order=True, slots=True)
class Beneficiary:
    """One line of a beneficiary list (no name, no NIK: personal data stays out of the hash)."""

    worker_id: str
    regency_code: str
    sector: str


def listed_of(seats: Mapping[str, QuotaCell]) -> list[Beneficiary]:
    """The beneficiaries holding `seats` (worker -> cell), sorted by worker id."""
    return sorted(Beneficiary(w, cell.regency, str(cell.sector)) for w, cell in seats.items())


def canonical_list(beneficiaries: Iterable[Beneficiary]) -> bytes:
    """The list in canonical form (libs/decree_list.py)."""
    return decree_list.canonical_list((b.worker_id, b.regency_code, b.sector) for b in beneficiaries)


def list_sha256(beneficiaries: Iterable[Beneficiary]) -> str:
    """Lowercase hex SHA-256 of the canonical list."""
    return decree_list.list_sha256((b.worker_id, b.regency_code, b.sector) for b in beneficiaries)


def beneficiaries(envelopes: Iterable[Envelope], programme_code: str) -> list[Beneficiary]:
    """The programme's beneficiaries after `envelopes` (allocation events in log order)."""
    state = replay_programme(envelopes, programme_code)
    return [] if state is None else listed_of(state.quota.assigned)


@dataclass(frozen=True)
class DecreeCheck:
    """A decree's recorded list hash and count against the list computed from the events."""

    programme_code: str
    decree_number: str
    decree_version: int
    decree_date: date
    recorded_sha256: str
    recorded_count: int
    computed_sha256: str
    computed_count: int

    @property
    def matches(self) -> bool:
        return self.recorded_sha256 == self.computed_sha256 and self.recorded_count == self.computed_count


def decree_checks(envelopes: Iterable[Envelope], programme_code: str) -> list[DecreeCheck]:
    """Every DecreeIssued of the programme, checked against the list it fixed."""
    state = replay_programme(envelopes, programme_code)
    checks: list[DecreeCheck] = []
    for issued in state.decrees if state is not None else ():
        listed = listed_of(issued.listed)
        checks.append(
            DecreeCheck(
                programme_code=programme_code,
                decree_number=issued.event.decree_number,
                decree_version=issued.event.version,
                decree_date=issued.event.decree_date,
                recorded_sha256=issued.event.list_sha256,
                recorded_count=issued.event.worker_count,
                computed_sha256=list_sha256(listed),
                computed_count=len(listed),
            )
        )
    return checks
