"""The relay's position: what may be sent past holes in the ids, and what waits to be stamped."""

from __future__ import annotations

from datetime import UTC, datetime

from libs.messaging.relay_cursor import STAMP_EVERY_BATCHES, Hole, RelayCursor, SentBatch

AT = datetime(2026, 12, 7, tzinfo=UTC)


def test_an_unbroken_run_after_the_position_is_sent_whole() -> None:
    assert RelayCursor(position=4).unbroken([5, 6, 7]) == 3


def test_a_hole_stops_the_run_until_it_is_settled() -> None:
    cursor = RelayCursor(position=4)
    assert cursor.unbroken([5, 7, 8]) == 1  # 6 may belong to a transaction still writing
    assert cursor.unbroken([7, 8]) == 0
    cursor.hole = Hole(upto=8, writers=frozenset({"3/14"}))
    cursor.settle()
    assert (cursor.settled, cursor.hole) == (8, None)
    assert cursor.unbroken([7, 8]) == 2
    # A hole above what was settled waits again.
    assert cursor.unbroken([7, 8, 10]) == 2


def test_advancing_remembers_each_sent_batch_for_one_stamp() -> None:
    cursor = RelayCursor(position=0)
    cursor.advance(3, AT)
    cursor.advance(5, None)  # rows stamped before (never published): nothing to stamp
    cursor.advance(9, AT)
    assert cursor.position == 9
    assert cursor.unstamped == [SentBatch(0, 3, AT), SentBatch(5, 9, AT)]


def test_passing_a_hole_forgets_it() -> None:
    cursor = RelayCursor(position=0, hole=Hole(upto=4, writers=frozenset({"1/1"})))
    cursor.advance(3, AT)
    assert cursor.hole is not None
    cursor.advance(4, AT)
    assert cursor.hole is None


def test_stamps_are_due_under_load_after_a_bounded_number_of_batches() -> None:
    cursor = RelayCursor(position=0)
    for upto in range(1, STAMP_EVERY_BATCHES):
        cursor.advance(upto, AT)
        assert not cursor.stamp_due()
    cursor.advance(STAMP_EVERY_BATCHES, AT)
    assert cursor.stamp_due()
