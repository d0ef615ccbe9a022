"""A programme's beneficiary list as it stood at an instant, from allocation's events alone,
and the check that each decree (DecreeIssued) froze exactly that list.

A worker is on the list while their latest quota decision is QuotaAssigned; any other decision
about them takes them off: QuotaWaitlisted, QuotaReleased, and where they exist QuotaUnseated
(a provisional seat given up before the first decree) and QuotaDeclined (kept by another
programme). The same rule as allocation's `assignments.status = 'assigned'`.

The list is hashed in the canonical form every decree uses (libs/decree_list.py, the one home
of that format, allocation's too).

A decree is checked against the list just before its own event in the programme's stream (the
stream orders every quota decision and decree of a programme), which is what it froze; the
list "on the decree's date" can differ when decisions followed the decree later that day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from libs import decree_list
from libs.events.catalog import decode
from libs.events.contracts.allocation import DecreeIssued, QuotaAssigned
from libs.events.envelope import Envelope

# Decisions that take a worker off the list (by name: some are newer than this module's tests).
OFF_THE_LIST = frozenset({"QuotaWaitlisted", "QuotaReleased", "QuotaUnseated", "QuotaDeclined"})
ALLOCATION_TYPES = (
    "ProgrammeDefined",
    "QuotaAssigned",
    "QuotaChanged",
    "BudgetChanged",
    "DecreeIssued",
    *sorted(OFF_THE_LIST),
)


@dataclass(frozen=True, order=True, slots=True)
class Beneficiary:
    """One line of a beneficiary list (no name, no NIK: personal data stays out of the hash)."""

    worker_id: str
    regency_code: str
    sector: str

    def canonical_line(self) -> str:
        """This beneficiary's line in the hashed list."""
        return decree_list.canonical_line(self.worker_id, self.regency_code, self.sector)


def canonical_list(beneficiaries: Iterable[Beneficiary]) -> bytes:
    """The list in canonical form (libs/decree_list.py)."""
    return decree_list.canonical_list((b.worker_id, b.regency_code, b.sector) for b in beneficiaries)


def list_sha256(beneficiaries: Iterable[Beneficiary]) -> str:
    """Lowercase hex SHA-256 of the canonical list."""
    return decree_list.list_sha256((b.worker_id, b.regency_code, b.sector) for b in beneficiaries)


def _apply(current: dict[str, Beneficiary], envelope: Envelope, programme_code: str) -> None:
    if envelope.event_type != QuotaAssigned.event_type and envelope.event_type not in OFF_THE_LIST:
        return
    event = decode(envelope)
    if getattr(event, "programme_code", None) != programme_code:
        return
    if isinstance(event, QuotaAssigned):
        current[event.worker_id] = Beneficiary(event.worker_id, event.regency_code, event.sector)
    else:
        current.pop(str(getattr(event, "worker_id", "")), None)


def beneficiaries(envelopes: Iterable[Envelope], programme_code: str) -> list[Beneficiary]:
    """The programme's beneficiaries after `envelopes` (allocation events in log order)."""
    current: dict[str, Beneficiary] = {}
    for envelope in envelopes:
        _apply(current, envelope, programme_code)
    return sorted(current.values())


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
    """Every DecreeIssued of the programme, checked against the list just before it."""
    current: dict[str, Beneficiary] = {}
    checks: list[DecreeCheck] = []
    for envelope in envelopes:
        if envelope.event_type == DecreeIssued.event_type:
            decree = decode(envelope)
            assert isinstance(decree, DecreeIssued)
            if decree.programme_code == programme_code:
                listed = current.values()
                checks.append(
                    DecreeCheck(
                        programme_code=programme_code,
                        decree_number=decree.decree_number,
                        decree_version=decree.version,
                        decree_date=decree.decree_date,
                        recorded_sha256=decree.list_sha256,
                        recorded_count=decree.worker_count,
                        computed_sha256=list_sha256(listed),
                        computed_count=len(current),
                    )
                )
            continue
        _apply(current, envelope, programme_code)
    return checks
