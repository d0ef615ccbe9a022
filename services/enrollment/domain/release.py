"""What a release (QuotaReleased from allocation, or the end of a BPU membership) does to a
registration at BPJS, and when an unanswered stop-payment is sent again.

A release is a fact about the seat: the programme stops paying for the worker. What enrollment
records depends on how far the registration got:

* ENROLLED: coverage ends on the release's business day (`CoverageEnded` with the last month
  the programme still owes, see coverage.last_month_billable) and BPJS is told to stop (a
  deregistration, when the worker holds a KPJ).
* REQUESTED (no answer yet, or a retry scheduled): the registration is cancelled: no further
  attempt is sent, and an acceptance arriving afterwards enrolls nobody (BPJS registered the
  person anyway, so the KPJ it answered is deregistered at once).
* FAILED: nothing to end. BPJS refused them; allocation releases every failed registration, so
  a late acceptance of a failed registration is ended and deregistered when it arrives.
* Already ended: a redelivered or second release changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from services.enrollment.domain.registration import RegistrationStatus


class ReleaseAction(StrEnum):
    """What a release does to a registration."""

    END = "END"  # enrolled: CoverageEnded, and a deregistration at BPJS
    CANCEL = "CANCEL"  # still waiting for BPJS: CoverageEnded without a KPJ; no attempt follows
    NOTHING = "NOTHING"  # failed, or already ended


def release_action(status: RegistrationStatus, already_ended: bool) -> ReleaseAction:
    """The action a release calls for on a registration in `status`."""
    if already_ended or status is RegistrationStatus.FAILED:
        return ReleaseAction.NOTHING
    if status is RegistrationStatus.ENROLLED:
        return ReleaseAction.END
    return ReleaseAction.CANCEL


def deregistration_overdue(sent_at: datetime, now: datetime, answer_timeout: timedelta) -> bool:
    """A stop-payment unanswered for `answer_timeout` is sent again (attempt + 1), as often as it
    takes: unlike a registration there is nothing to give up to, and BPJS must hear it."""
    return now >= sent_at + answer_timeout
