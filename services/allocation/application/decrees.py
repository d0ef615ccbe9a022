"""What issuing a decree (SK) answers: the decree as recorded (domain/decree_issue.py decides it)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from libs.events.contracts.allocation import DecreeIssued
from services.allocation.domain.programme import DecreeKind


@dataclass(frozen=True)
class DecreeSummary:
    """A decree as recorded: what the HTTP API and the CLI show after issuing it."""

    programme_code: str
    version: int
    decree_number: str
    decree_date: dt.date
    signer: str
    list_sha256: str
    worker_count: int
    total_cost: int
    added: int
    removed: int
    supersedes: str | None
    created: bool
    kind: str = DecreeKind.SK_GUBERNUR.value  # the programme's (SK_GUBERNUR, SK_BUPATI, PERKADA)

    def as_json(self) -> dict[str, Any]:
        """The summary as the HTTP API answers it."""
        data = asdict(self)
        data["decree_date"] = self.decree_date.isoformat()
        return data


def summary_of(issued: DecreeIssued, *, created: bool, kind: DecreeKind) -> DecreeSummary:
    """The summary of a recorded DecreeIssued (`created`: recorded by this request)."""
    return DecreeSummary(
        programme_code=issued.programme_code,
        version=issued.version,
        decree_number=issued.decree_number,
        decree_date=issued.decree_date,
        signer=issued.signer,
        list_sha256=issued.list_sha256,
        worker_count=issued.worker_count,
        total_cost=issued.total_cost,
        added=issued.added,
        removed=issued.removed,
        supersedes=issued.supersedes,
        created=created,
        kind=kind.value,
    )
