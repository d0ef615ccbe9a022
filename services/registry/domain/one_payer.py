"""One payer per worker, the registry's half: which earlier nominations still keep a worker from
an overlapping funder (DUPLICATE_NOMINATION, rules.check_duplicates).

Only a seat holds a worker — the same notion as allocation's cross-programme rule
(services/allocation/domain/cross_programme.py): a nomination pending, validated and not decided
yet by allocation, or holding a seat (assigned, decreed, enrolled) keeps the worker. One that was
rejected, withdrawn, declined (another programme keeps the worker), waitlisted, released (any
reason: withdrawn, died, enrollment failed, membership ended, held by another programme) or whose
coverage ended keeps nobody. A waiting nomination still keeps the worker from a second nomination
in *its own* programme, whose waitlist already has them.

The registry learns these outcomes from allocation's and enrollment's events (projections.py).
Allocation is the authority: whatever enrollment says first, allocation's release follows on
the worker's partition, so the recorded outcome converges on allocation's.
"""

from __future__ import annotations

from enum import StrEnum

from libs.events.contracts.allocation import (
    AssignmentDecreed,
    QuotaAssigned,
    QuotaDeclined,
    QuotaReleased,
    QuotaUnseated,
    QuotaWaitlisted,
)
from libs.events.contracts.enrollment import CoverageEnded, EnrolledAtBPJS, EnrollmentFailed

SEAT_EVENTS = frozenset(
    {
        QuotaAssigned.event_type,
        QuotaWaitlisted.event_type,
        QuotaUnseated.event_type,
        QuotaDeclined.event_type,
        QuotaReleased.event_type,
        AssignmentDecreed.event_type,
        EnrolledAtBPJS.event_type,
        EnrollmentFailed.event_type,
        CoverageEnded.event_type,
    }
)
"""Allocation's and enrollment's events that say whether a nomination holds a seat."""


class Seat(StrEnum):
    """What allocation and enrollment last decided about a validated nomination."""

    ASSIGNED = "assigned"  # QuotaAssigned
    DECREED = "decreed"  # AssignmentDecreed
    ENROLLED = "enrolled"  # EnrolledAtBPJS
    WAITLISTED = "waitlisted"  # QuotaWaitlisted, QuotaUnseated
    DECLINED = "declined"  # QuotaDeclined: another programme keeps the worker
    RELEASED = "released"  # QuotaReleased
    ENROLLMENT_FAILED = "enrollment_failed"  # EnrollmentFailed
    ENDED = "ended"  # CoverageEnded


HOLDING = frozenset({Seat.ASSIGNED, Seat.DECREED, Seat.ENROLLED})
"""Outcomes in which the nomination holds a seat: the programme pays for the worker."""


def holds_the_worker(status: str, seat: str | None, *, same_programme: bool) -> bool:
    """Whether an earlier nomination (its registry `status` and allocation `seat`) keeps the worker
    from a new nomination, of the same programme or of an overlapping one (module doc)."""
    if status == "pending":
        return True
    if status != "validated":
        return False  # rejected or withdrawn
    if seat is None or seat in HOLDING:
        return True  # not decided yet (it may well get a seat), or holding one
    return seat == Seat.WAITLISTED and same_programme
