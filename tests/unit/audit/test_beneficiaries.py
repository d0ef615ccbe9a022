"""The beneficiary list from allocation's events, and decrees checked against it."""

from __future__ import annotations

from lindung_cli.audit.beneficiaries import Beneficiary, beneficiaries, decree_checks, list_sha256
from tests.unit.audit.factories import PROGRAMME, Log, assigned, decree, defined, released, waitlisted


def _log() -> Log:
    log = Log()
    log.add(defined({("12.17", "non_sawit"): 2, ("12.71", "sawit"): 1}))
    log.add(assigned("w1"))
    log.add(assigned("w2"))
    log.add(waitlisted("w3"))
    log.add(assigned("w4", "12.71", "sawit"))
    return log


def test_assigned_workers_are_listed_and_others_are_not() -> None:
    log = _log()
    assert beneficiaries(log.envelopes, PROGRAMME) == [
        Beneficiary("w1", "12.17", "non_sawit"),
        Beneficiary("w2", "12.17", "non_sawit"),
        Beneficiary("w4", "12.71", "sawit"),
    ]


def test_a_release_takes_a_worker_off_and_a_promotion_puts_one_on() -> None:
    log = _log()
    log.add(released("w2"))
    log.add(assigned("w3", promoted=True))
    assert [b.worker_id for b in beneficiaries(log.envelopes, PROGRAMME)] == ["w1", "w3", "w4"]


def test_the_list_at_an_instant_uses_only_the_events_up_to_it() -> None:
    log = _log()
    cut = log.envelopes[2].occurred_at
    log.add(released("w1"))
    assert [
        b.worker_id for b in beneficiaries([e for e in log.envelopes if e.occurred_at <= cut], PROGRAMME)
    ] == [
        "w1",
        "w2",
    ]


def test_other_programmes_are_left_out() -> None:
    log = _log()
    log.add(assigned("x1", programme_code="OTHER-2026"))
    assert "x1" not in {b.worker_id for b in beneficiaries(log.envelopes, PROGRAMME)}


def test_a_decree_is_checked_against_the_list_just_before_it() -> None:
    log = _log()
    frozen = beneficiaries(log.envelopes, PROGRAMME)
    log.add(decree(list_sha256(frozen), len(frozen)))
    log.add(released("w1"))  # after the decree: does not change what it froze
    log.add(decree(list_sha256(frozen), len(frozen), version=2))  # stale: w1 was released
    first, second = decree_checks(log.envelopes, PROGRAMME)
    assert first.matches and first.decree_version == 1 and first.computed_count == 3
    assert not second.matches and second.computed_count == 2 and second.recorded_count == 3
