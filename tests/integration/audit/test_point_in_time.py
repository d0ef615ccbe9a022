"""Point in time, from the events alone: the beneficiary list at an instant (and a decree's frozen
list), coverage on a day, the quota and budget position at a month end."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, text

from libs.audit.history import WIB, end_of_month, events_until
from libs.audit.session import read_only
from libs.db import make_engine
from libs.events.catalog import decode
from libs.events.contracts.allocation import DecreeIssued
from libs.events.envelope import Envelope
from libs.eventstore.migration import create_eventstore
from libs.eventstore.postgres import PostgresStore
from libs.eventstore.tables import eventstore_tables
from lindung_cli.audit.beneficiaries import (
    beneficiaries,
    decree_checks,
    list_sha256,
)
from lindung_cli.audit.coverage import ENROLLMENT_TYPES, coverage_on
from lindung_cli.audit.programme import PROGRAMME_TYPES as ALLOCATION_TYPES
from lindung_cli.audit.quota import quota_position
from services.allocation.domain.decree import Decree, DecreeEntry
from services.allocation.domain.sector import Sector
from tests.integration.audit.conftest import DEMO, SMALL, AuditRun, assigned_list
from tests.integration.audit.support import lindung
from tests.support.appending import append

pytestmark = pytest.mark.integration


async def _allocation(audit_run: AuditRun, until: datetime | None) -> list[Envelope]:
    async with read_only(audit_run.engine) as conn:
        table = audit_run.definitions["allocation"].tables.events
        return await events_until(conn, table, types=ALLOCATION_TYPES, until=until)


async def test_the_list_as_of_t1_is_the_allocation_read_model_at_t1(audit_run: AuditRun) -> None:
    then = await _allocation(audit_run, audit_run.t1)
    now = await _allocation(audit_run, None)
    for programme in (DEMO, SMALL):
        listed = beneficiaries(then, programme)
        assert (len(listed), list_sha256(listed)) == audit_run.lists_at_t1[programme]
        current = beneficiaries(now, programme)
        assert (len(current), list_sha256(current)) == await assigned_list(audit_run.engine, programme)
    assert len(beneficiaries(now, DEMO)) > audit_run.lists_at_t1[DEMO][0]  # batch 2 came later


async def test_the_cli_writes_the_canonical_list_of_an_instant(audit_run: AuditRun, tmp_path: Path) -> None:
    out = tmp_path / "list.txt"
    count, sha = audit_run.lists_at_t1[DEMO]
    result = await lindung(
        "audit", "beneficiaries", DEMO, "--on", audit_run.t1.isoformat(), "--list-out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert f"{count} beneficiaries" in result.output and sha in result.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() == sha
    assert len(out.read_bytes().splitlines()) == count


async def test_a_decree_froze_exactly_the_list_the_events_give(audit_run: AuditRun) -> None:
    """A decree recorded on the programme's stream (hashed by allocation's own Decree code),
    then later decisions: the check finds the list just before the decree, not today's."""
    schema = f"audit_decree_{uuid.uuid4().hex[:6]}"
    history = await _allocation(audit_run, None)
    stream = f"programme-{DEMO}"
    decisions = [e for e in history if e.aggregate_id == stream and e.event_type != "DecreeIssued"]
    before = [e for e in decisions if e.occurred_at <= audit_run.t1]
    after = [e for e in decisions if e.occurred_at > audit_run.t1]
    frozen = beneficiaries(before, DEMO)
    entries = tuple(
        DecreeEntry(b.worker_id, "1217**********01", "-", b.regency_code, Sector(b.sector)) for b in frozen
    )
    decree = Decree("188.44/1/KPTS/2026", date(2026, 2, 1), "Gubernur", DEMO, 1, entries)
    wrong = Decree("188.44/2/KPTS/2026", date(2026, 3, 1), "Gubernur", DEMO, 2, entries[1:])

    def issued(d: Decree, count: int) -> DecreeIssued:
        return DecreeIssued(
            programme_code=DEMO,
            decree_number=d.number,
            decree_date=d.date,
            signer=d.signer,
            version=d.version,
            list_sha256=d.list_sha256(),
            worker_count=count,
            total_cost=0,
        )

    engine = make_engine(audit_run.database_url, pool_size=1)
    store = PostgresStore(engine, eventstore_tables(MetaData(), schema), "allocation")
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {schema}"))
            await conn.run_sync(create_eventstore, schema)
        async with store.transaction() as tx:
            await append(
                tx,
                stream,
                [decode(e) for e in before]
                + [issued(decree, len(entries))]
                + [decode(e) for e in after]
                + [issued(wrong, len(entries) - 1)],
            )
        async with read_only(engine) as conn:
            envelopes = await events_until(conn, store.tables.events, types=ALLOCATION_TYPES, until=None)
        first, second = decree_checks(envelopes, DEMO)
        assert first.matches and first.computed_sha256 == decree.list_sha256()
        assert (first.computed_count, first.computed_sha256) == audit_run.lists_at_t1[DEMO]
        assert not second.matches  # lists one worker fewer than the events hold by then
        assert len(beneficiaries(envelopes, DEMO)) > second.recorded_count
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        await engine.dispose()


async def _enrollment(audit_run: AuditRun, until: datetime | None) -> list[Envelope]:
    async with read_only(audit_run.engine) as conn:
        table = audit_run.definitions["enrollment"].tables.events
        return await events_until(conn, table, types=ENROLLMENT_TYPES, until=until)


async def test_coverage_on_a_day_agrees_with_enrollment_for_every_worker(audit_run: AuditRun) -> None:
    events = await _enrollment(audit_run, None)
    async with audit_run.engine.connect() as conn:
        status = dict(
            (await conn.execute(text("SELECT worker_id, status FROM enrollment.registrations"))).all()
        )
    last_day = date(2026, 12, 31)
    for worker in audit_run.workers:
        verdict = coverage_on(events, worker.worker_id, last_day)
        assert verdict.covered == (status.get(worker.worker_id) == "enrolled"), worker.worker_id
        if status.get(worker.worker_id) == "failed":
            assert verdict.reason == "NOT_ENROLLED" and verdict.failed_programmes
    enrolled = next(w.worker_id for w in audit_run.workers if status.get(w.worker_id) == "enrolled")
    assert coverage_on(events, enrolled, date(2027, 1, 1)).reason == "AFTER_COVERAGE_END"
    assert coverage_on(events, enrolled, date(2025, 12, 31)).reason == "BEFORE_COVERAGE_START"
    # Known at the end of the day before anything was enrolled, nobody was covered yet.
    before_run = audit_run.t1 - timedelta(days=1)
    early = await _enrollment(audit_run, before_run)
    assert coverage_on(early, enrolled, before_run.astimezone(WIB).date()).reason == "NOT_ENROLLED"


async def test_the_cli_answers_coverage_by_nik_without_showing_it(audit_run: AuditRun) -> None:
    from lindung_cli.audit.coverage import window_rule
    from lindung_cli.audit.point_in_time import enrollment_rule as _enrollment_rule

    async with audit_run.engine.connect() as conn:
        enrolled = set(
            (
                await conn.execute(
                    text("SELECT worker_id FROM enrollment.registrations WHERE status='enrolled'")
                )
            )
            .scalars()
            .all()
        )
    worker = next(w for w in audit_run.workers if w.worker_id in enrolled)
    known_at = datetime.now(UTC)
    expected = coverage_on(
        await _enrollment(audit_run, known_at),
        worker.worker_id,
        date(2026, 12, 31),
        _enrollment_rule(known_at.astimezone(WIB).date()) or window_rule,
    )
    args = ("--nik", worker.nik, "--on", "2026-12-31", "--known-at", known_at.isoformat())
    result = await lindung("audit", "coverage", *args)
    assert result.exit_code == 0, result.output
    verdict = "NOT COVERED" if not expected.covered else "COVERED"
    assert f": {verdict} ({expected.reason})" in result.output
    assert expected.enrollment is not None and expected.enrollment.kpj in result.output
    assert worker.nik not in result.output


async def test_the_quota_position_at_month_end_is_the_read_model(audit_run: AuditRun) -> None:
    now = datetime.now(UTC).astimezone(WIB)
    month_end = end_of_month(now.year, now.month)
    events = await _allocation(audit_run, month_end)
    async with audit_run.engine.connect() as conn:
        for programme in (DEMO, SMALL):
            position = quota_position(events, programme, month_end)
            assert position is not None
            cells = {
                (r.regency_code, r.sector): (r.seats, r.assigned)
                for r in await conn.execute(
                    text("SELECT * FROM allocation.quota_cells WHERE programme_code = :p"), {"p": programme}
                )
            }
            assert {k: (c.seats, c.assigned) for k, c in position.cells.items()} == cells
            row = (
                await conn.execute(
                    text("SELECT * FROM allocation.programmes WHERE programme_code = :p"), {"p": programme}
                )
            ).one()
            assert (position.assigned, position.waitlisted) == (row.assigned, row.waitlisted)
            assert (position.budget_cap, position.cost_per_worker) == (row.budget_cap, row.cost_per_worker)
            assert position.committed_rupiah == row.assigned * row.cost_per_worker
    previous = end_of_month(now.year - 1, 12)
    assert quota_position(await _allocation(audit_run, previous), DEMO, previous) is None
    result = await lindung("audit", "quota", SMALL, "--month", f"{now.year}-{now.month:02d}")
    assert result.exit_code == 0, result.output
    assert "committed Rp" in result.output


async def test_decrees_signed_through_allocation_froze_the_lists_the_events_give(audit_run: AuditRun) -> None:
    if not audit_run.decrees:
        pytest.skip(
            "this build's allocation has no decree route (the synthetic decree test covers the check)"
        )
    events = await _allocation(audit_run, None)
    checks = [c for programme in (DEMO, SMALL) for c in decree_checks(events, programme)]
    assert len(checks) == audit_run.decrees == 3
    assert all(c.matches for c in checks), checks
    first = next(c for c in checks if c.programme_code == DEMO and c.decree_version == 1)
    assert (first.computed_count, first.computed_sha256) == audit_run.lists_at_t1[DEMO]  # signed at t1
    result = await lindung("audit", "beneficiaries", DEMO, "--decrees")
    assert result.exit_code == 0, result.output
    assert result.output.count("matches") == 2


async def test_with_enrollments_rule_the_audit_gives_enrollments_own_answer(audit_run: AuditRun) -> None:
    """From the events alone, judged by enrollment's domain rule (paid months, grace, lapses), the
    answer is the one enrollment gives from its read model (`GET /coverage/{nik}` uses the same)."""
    from lindung_cli.audit.point_in_time import enrollment_rule as _enrollment_rule

    service = pytest.importorskip("services.enrollment.application.coverage")
    rule = _enrollment_rule(None)
    if rule is None or not hasattr(service, "answer_for"):
        pytest.skip("this build's enrollment has no coverage rule (the window rule is tested above)")
    from libs.settings import get_settings
    from services.enrollment.application.config import config_from

    policy = config_from(get_settings()).coverage
    events = await _enrollment(audit_run, None)
    compared = 0
    async with audit_run.engine.connect() as conn:
        for worker in audit_run.workers:
            ledgers = await service.coverage_of(conn, worker.worker_id)
            for day in (date(2026, 6, 1), date(2026, 12, 31), date(2027, 1, 1)):
                theirs = [service.answer_for(pc, day, policy, None) for pc in ledgers]
                ours = coverage_on(events, worker.worker_id, day, rule)
                assert ours.covered == any(a["covered"] for a in theirs), (worker.worker_id, day)
                assert ours.reason in ({a["reason"] for a in theirs} or {"NOT_ENROLLED"}), (ours, theirs)
                compared += bool(theirs)
    assert compared > 100
