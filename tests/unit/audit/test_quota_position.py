"""Quota use and budget position from allocation's events, replayed through allocation's rules."""

from __future__ import annotations

import pytest

from libs.events.contracts.allocation import BudgetChanged
from lindung_cli.audit.quota import quota_position
from services.allocation.domain.quota_state import QuotaError
from tests.unit.audit.factories import PROGRAMME, Log, assigned, defined, released, waitlisted

COST = (10_000 + 6_800) * 12


def test_nothing_before_the_programme_is_defined() -> None:
    assert quota_position([], PROGRAMME) is None


def test_cells_counts_and_money_follow_each_workers_latest_decision() -> None:
    log = Log()
    log.add(defined({("12.17", "non_sawit"): 2, ("12.71", "sawit"): 5}, cap=COST * 3))
    log.add(assigned("w1"))
    log.add(assigned("w2"))
    log.add(waitlisted("w3"))
    log.add(assigned("w4", "12.71", "sawit"))
    log.add(released("w2"))
    log.add(assigned("w3", promoted=True))
    position = quota_position(log.envelopes, PROGRAMME)
    assert position is not None
    assert {k: (c.seats, c.assigned) for k, c in position.cells.items()} == {
        ("12.17", "non_sawit"): (2, 2),
        ("12.71", "sawit"): (5, 1),
    }
    assert (position.seats_total, position.assigned, position.waitlisted) == (7, 3, 0)
    assert position.cost_per_worker == COST == 201_600
    assert position.committed_rupiah == 3 * COST and position.headroom == 0 and position.overcommitted == 0


def test_a_stream_allocation_would_not_have_written_does_not_replay() -> None:
    # Allocation decides nothing for a worker who is not there, and defines a programme once:
    # such events are a corrupt stream, refused as allocation's own state refuses them.
    log = Log()
    log.add(defined({("12.17", "non_sawit"): 2}, cap=COST * 10))
    log.add(released("w5"))
    with pytest.raises(QuotaError, match="neither assigned nor waiting"):
        quota_position(log.envelopes, PROGRAMME)
    log = Log()
    log.add(defined({("12.17", "non_sawit"): 2}, cap=COST * 10))
    log.add(defined({("12.17", "non_sawit"): 4}, cap=COST // 2, premium_jkk=20_000))
    with pytest.raises(QuotaError, match="already open"):
        quota_position(log.envelopes, PROGRAMME)


def test_a_cut_budget_shows_the_overcommitment() -> None:
    log = Log()
    log.add(defined({("12.17", "non_sawit"): 4}, cap=COST * 10))
    log.add(assigned("w1"))
    log.add(assigned("w2"))
    cut = COST + COST // 2
    log.add(BudgetChanged(programme_code=PROGRAMME, budget_cap=cut, previous_cap=COST * 10, over_committed=1))
    position = quota_position(log.envelopes, PROGRAMME)
    assert position is not None
    assert position.cells[("12.17", "non_sawit")].seats == 4 and position.assigned == 2
    assert position.overcommitted == 2 * COST - cut and position.headroom == 0
