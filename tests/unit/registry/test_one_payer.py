"""Which earlier nominations keep a worker from another funder (issue 13, item 3)."""

from __future__ import annotations

import pytest

from services.registry.domain.one_payer import Seat, holds_the_worker


@pytest.mark.parametrize("seat", [None, Seat.ASSIGNED, Seat.DECREED, Seat.ENROLLED])
def test_a_seat_or_a_decision_still_to_come_keeps_the_worker(seat: Seat | None) -> None:
    assert holds_the_worker("validated", seat, same_programme=False)
    assert holds_the_worker("validated", seat, same_programme=True)


@pytest.mark.parametrize(
    "seat", [Seat.DECLINED, Seat.RELEASED, Seat.ENROLLMENT_FAILED, Seat.ENDED, Seat.WAITLISTED]
)
def test_no_seat_keeps_nobody_from_another_funder(seat: Seat) -> None:
    assert not holds_the_worker("validated", seat, same_programme=False)


def test_a_waiting_nomination_keeps_its_own_programme_from_a_second_one() -> None:
    assert holds_the_worker("validated", Seat.WAITLISTED, same_programme=True)
    assert not holds_the_worker("validated", Seat.RELEASED, same_programme=True)


@pytest.mark.parametrize("status", ["rejected", "withdrawn"])
def test_rejected_and_withdrawn_nominations_keep_nobody(status: str) -> None:
    assert not holds_the_worker(status, None, same_programme=True)


def test_a_pending_nomination_keeps_the_worker() -> None:
    assert holds_the_worker("pending", None, same_programme=False)
