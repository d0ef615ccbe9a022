"""The net changes of a batch of seat events (services/allocation/adapters/assignment_changes.py):
one change per row, the counters moved by net deltas exactly as the events one by one move them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from libs.events.contracts import allocation as wire
from libs.events.contracts.common import Funder, WorkerIdentity
from services.allocation.adapters.assignment_changes import AssignmentChanges

CODE = "SUMUT-2025"
AT = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
IDENTITY = WorkerIdentity(
    nik="1271010101800001", full_name="Rosmawati Sinaga", birth_date="1980-01-01", sex="P"
)
CELL = (CODE, "12.71", "sawit")


def assigned(worker: str, decile: int = 2) -> wire.QuotaAssigned:
    return wire.QuotaAssigned(
        worker_id=worker,
        nomination_id=f"nom-{worker}",
        programme_code=CODE,
        funder=Funder.APBD_PROVINSI,
        regency_code="12.71",
        sector="sawit",
        decile=decile,
        identity=IDENTITY,
        coverage_start=date(2026, 1, 1),
        coverage_end=date(2026, 12, 31),
        premium_per_month=16_800,
        requires_decree=True,
        nomination_seq=1,
    )


def waitlisted(worker: str) -> wire.QuotaWaitlisted:
    return wire.QuotaWaitlisted(
        worker_id=worker,
        nomination_id=f"nom-{worker}",
        programme_code=CODE,
        regency_code="12.71",
        sector="sawit",
        decile=3,
        identity=IDENTITY,
        nomination_seq=2,
        decree_round=0,
        position=1,
        reason="no_seat",
    )


def unseated(worker: str, by: str) -> wire.QuotaUnseated:
    return wire.QuotaUnseated(
        worker_id=worker,
        nomination_id=f"nom-{worker}",
        programme_code=CODE,
        regency_code="12.71",
        sector="sawit",
        decile=4,
        nomination_seq=1,
        decree_round=0,
        position=1,
        reason="no_seat",
        by_worker_id=by,
        by_decile=1,
    )


def released(worker: str) -> wire.QuotaReleased:
    return wire.QuotaReleased(
        worker_id=worker, programme_code=CODE, regency_code="12.71", sector="sawit", reason="withdrawn"
    )


def declined(worker: str) -> wire.QuotaDeclined:
    return wire.QuotaDeclined(
        worker_id=worker,
        nomination_id=f"nom-{worker}",
        programme_code=CODE,
        regency_code="12.71",
        sector="sawit",
        reason="held_by_other_programme",
        held_by="OTHER",
    )


def played(statuses: dict[tuple[str, str], str], *events: Any) -> AssignmentChanges:
    changes = AssignmentChanges.over(statuses)
    for n, event in enumerate(events):
        changes.apply(event, AT + timedelta(seconds=n))
    return changes


def test_many_seats_move_each_counter_once_by_their_sum() -> None:
    changes = played({}, *(assigned(f"w{n}") for n in range(250)))
    assert len(changes.rows) == 250 and all(c.insert for c in changes.rows.values())
    assert changes.programme_deltas() == {CODE: (250, 0)}
    assert changes.cell_deltas() == {CELL: 250}


def test_a_seat_taken_and_lost_in_one_batch_is_one_inserted_waiting_row() -> None:
    changes = played({}, assigned("a", decile=4), assigned("b", decile=1), unseated("a", by="b"))
    row = changes.rows[(CODE, "a")]
    assert row.insert
    assert row.values["status"] == "waitlisted"
    assert row.values["unseated_by"] == "b"
    assert row.values["desil_rank"] == 4  # from the seat; the unseat leaves it
    assert row.values["updated_at"] == AT + timedelta(seconds=2)
    # Each event's moves, summed: +1 +1, then -1 assigned and +1 waiting.
    assert changes.programme_deltas() == {CODE: (1, 1)}
    assert changes.cell_deltas() == {CELL: 1}


def test_a_promotion_updates_the_existing_row_and_stops_counting_it_as_waiting() -> None:
    changes = played({(CODE, "a"): "waitlisted"}, assigned("a"))
    assert not changes.rows[(CODE, "a")].insert
    assert changes.programme_deltas() == {CODE: (1, -1)}
    assert changes.cell_deltas() == {CELL: 1}


def test_waiting_again_while_waiting_counts_once() -> None:
    assert played({(CODE, "a"): "waitlisted"}, waitlisted("a")).programme_deltas() == {}
    assert played({}, waitlisted("a")).programme_deltas() == {CODE: (0, 1)}


def test_a_release_moves_what_the_row_held_before_it() -> None:
    assert played({(CODE, "a"): "assigned"}, released("a")).programme_deltas() == {CODE: (-1, 0)}
    assert played({(CODE, "a"): "waitlisted"}, released("a")).programme_deltas() == {CODE: (0, -1)}
    seated_then_released = played({}, assigned("a"), released("a"))
    assert seated_then_released.programme_deltas() == {}
    assert seated_then_released.cell_deltas() == {}
    assert seated_then_released.rows[(CODE, "a")].values["status"] == "released"


def test_updates_of_a_row_that_does_not_exist_write_nothing() -> None:
    changes = played({}, released("a"))
    assert changes.rows == {} and changes.programme_deltas() == {}
    decreed = wire.AssignmentDecreed.model_construct(programme_code=CODE, worker_id="a", decree_number="1")
    assert played({}, decreed).rows == {}
    # ...while an update before the upsert that creates the row leaves no column behind.
    created = played({}, released("b"), declined("b")).rows[(CODE, "b")]
    assert created.insert and "release_reason" not in created.values


def test_an_unseat_moves_the_counters_as_its_update_does_even_without_a_row() -> None:
    # projections.project moves the counters of a QuotaUnseated whatever the row: so does this.
    assert played({}, unseated("a", by="b")).programme_deltas() == {CODE: (-1, 1)}


def test_a_decline_writes_its_columns_and_moves_no_counter() -> None:
    changes = played({(CODE, "a"): "waitlisted"}, declined("a"))
    row = changes.rows[(CODE, "a")]
    assert not row.insert and row.values["held_by"] == "OTHER" and "identity" not in row.values
    assert changes.programme_deltas() == {} and changes.cell_deltas() == {}


def test_other_events_are_refused() -> None:
    with pytest.raises(TypeError):
        played({}, wire.BudgetChanged.model_construct(programme_code=CODE))
