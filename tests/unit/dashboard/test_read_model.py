"""The rows a batch of consumed facts writes (domain/read_model.py), without PostgreSQL.

`Tables` below does what adapters/projections.py asks of PostgreSQL (caps as updates, replaced
quota tables deleted, every row an upsert that sets only its own columns): a batch written at
once must leave the same tables as its events written one by one, in any order the topics
deliver them.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

from services.dashboard.domain import facts as f
from services.dashboard.domain.consumed import fact_of
from services.dashboard.domain.read_model import Changes, changes_of
from tests.integration.dashboard.support import Feed, person
from tests.unit.dashboard.test_facts import every_kind_of_event

AT = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class Tables:
    """The read models as PostgreSQL keeps them, for the rows' sake only."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}

    def write(self, changes: Changes) -> None:
        programmes = self.rows.setdefault("programmes", {})
        for code, cap in changes.caps.items():
            if (code,) in programmes:
                programmes[(code,)]["budget_cap"] = cap
        quotas = self.rows.setdefault("quotas", {})
        for key in [k for k in quotas if k[0] in changes.quotas_replaced]:
            del quotas[key]
        for table, rows in changes.rows.items():
            for key, row in rows.items():
                self.rows.setdefault(table, {}).setdefault(key, {}).update(row)

    def comparable(self) -> dict[str, dict[tuple[Any, ...], dict[str, Any]]]:
        return {t: rows for t, rows in self.rows.items() if rows}


def facts_of_feed(feed: Feed) -> list[tuple[f.Fact, datetime]]:
    found = [(fact_of(env), env.occurred_at) for _, _, env in feed.sent]
    return [(fact, at) for fact, at in found if fact is not None]


def one_by_one(facts: list[tuple[f.Fact, datetime]]) -> Tables:
    tables = Tables()
    for item in facts:
        tables.write(changes_of([item]))
    return tables


def in_batches(facts: list[tuple[f.Fact, datetime]], rng: random.Random) -> Tables:
    tables = Tables()
    start = 0
    while start < len(facts):
        end = start + rng.randint(1, 8)
        tables.write(changes_of(facts[start:end]))
        start = end
    return tables


def busy_feed() -> Feed:
    feed = Feed("UNIT-2025")
    feed.define("Program uji", 2025, 1_000_000, {("12.17", "non_sawit"): 2, ("12.71", "sawit"): 1})
    people = [person("12.17", "non_sawit", i, seed=7) for i in range(1, 5)]
    for i, p in enumerate(people):
        nid = feed.nominate(p)
        feed.validate(p, nid)
        if i < 2:
            feed.assign(p, nid)
        else:
            feed.waitlist(p, nid, position=i - 1)
    feed.seats("12.17", "non_sawit", 3, previous=2)
    feed.budget(2_000_000, previous=1_000_000)
    feed.define("Program uji", 2025, 1_500_000, {("12.17", "non_sawit"): 4})
    feed.seats("12.71", "sawit", 2, previous=0)
    feed.decree("188/1/2025", 1, 2)
    feed.decreed(people[0], "188/1/2025")
    feed.enrol(people[0])
    feed.lapse(people[0])
    feed.restore(people[0])
    feed.fail(people[1])
    feed.release(people[1], "enrollment_failed")
    feed.premium("12.17", "2025-03", 1)
    feed.bill("12.17", "2025-03", people[:1])
    feed.claim("K-1", people[0], "JKK", "MEDICAL", date(2025, 4, 1), 1_500_000)
    feed.flag("K-1", people[0], "AMOUNT_ABOVE_BENEFIT")
    feed.flag("K-1", people[0], "AMOUNT_ABOVE_BENEFIT", "IN_LAPSE")
    return feed


def test_a_batch_leaves_the_tables_its_events_leave_one_by_one() -> None:
    for facts in (
        facts_of_feed(busy_feed()),
        [(fact_of(e), e.occurred_at) for e in every_kind_of_event()[0]],
    ):
        facts = [(fact, at) for fact, at in facts if fact is not None]
        expected = one_by_one(facts).comparable()
        batched = Tables()
        batched.write(changes_of(facts))
        assert batched.comparable() == expected
        rng = random.Random(16)
        for _ in range(20):
            assert in_batches(facts, rng).comparable() == expected


def test_in_any_order_the_topics_deliver_a_batch_still_matches_its_events_one_by_one() -> None:
    facts = facts_of_feed(busy_feed())
    rng = random.Random(3)
    for _ in range(30):
        shuffled = facts[:]
        rng.shuffle(shuffled)
        batched = Tables()
        batched.write(changes_of(shuffled))
        assert batched.comparable() == one_by_one(shuffled).comparable()


def test_a_workers_events_merge_into_one_row_per_key() -> None:
    feed = Feed("UNIT-2025")
    p = person("12.17", "non_sawit", 1, seed=5)
    nid = feed.nominate(p)
    feed.validate(p, nid)
    feed.assign(p, nid)
    feed.enrol(p)
    changes = changes_of(facts_of_feed(feed))
    [nomination] = changes.written("nominations")
    assert nomination["outcome"] == "validated" and nomination["sector"] == "non_sawit"
    assert nomination["updated_at"] == feed.sent[1][2].occurred_at  # the validation's time
    [placement] = changes.written("placements")
    assert (placement["quota_status"], placement["enrolment"]) == ("assigned", "enrolled")
    assert placement["updated_at"] == feed.sent[-1][2].occurred_at  # the latest event's time


def test_a_programme_definition_replaces_its_quota_table_and_later_seats_add_to_it() -> None:
    feed = Feed("UNIT-2025")
    feed.seats("12.71", "sawit", 9, previous=0)  # before the definition: forgotten with the old table
    feed.define("Program uji", 2025, 1_000_000, {("12.17", "non_sawit"): 2})
    feed.seats("12.17", "sawit", 5, previous=0)
    changes = changes_of(facts_of_feed(feed))
    assert changes.quotas_replaced == ["UNIT-2025"]
    seats = {(r["regency_code"], r["sector"]): r["seats"] for r in changes.written("quotas")}
    assert seats == {("12.17", "non_sawit"): 2, ("12.17", "sawit"): 5}


def test_a_cap_is_an_update_unless_the_batch_defines_the_programme() -> None:
    feed = Feed("UNIT-2025")
    feed.budget(3_000_000, previous=1_000_000)
    assert changes_of(facts_of_feed(feed)).caps == {"UNIT-2025": 3_000_000}
    feed.define("Program uji", 2025, 1_000_000, {("12.17", "non_sawit"): 2})
    feed.budget(4_000_000, previous=1_000_000)
    changes = changes_of(facts_of_feed(feed))
    [programme] = changes.written("programmes")
    assert programme["budget_cap"] == 4_000_000
    assert changes.caps == {"UNIT-2025": 3_000_000}  # run first: the definition's row overrides it


def test_a_claim_flagged_twice_keeps_each_code_once() -> None:
    feed = Feed("UNIT-2025")
    p = person("12.17", "non_sawit", 1, seed=5)
    feed.flag("K-1", p, "AMOUNT_ABOVE_BENEFIT")
    feed.flag("K-1", p, "AMOUNT_ABOVE_BENEFIT", "IN_LAPSE")
    rows = changes_of(facts_of_feed(feed)).written("claim_flags")
    assert rows == [
        {"claim_id": "K-1", "code": "AMOUNT_ABOVE_BENEFIT"},
        {"claim_id": "K-1", "code": "IN_LAPSE"},
    ]


def test_nothing_consumed_changes_nothing() -> None:
    assert changes_of([]).empty
    assert not changes_of([(f.CapSet(programme_code="P", budget_cap=1), AT)]).empty
