"""What a batch of the insurer's decisions records, written with one statement per table: new
participants (their latest payer folded in), continued participants' latest payer, payers,
stopped payers, deregistration and payment decisions, paid months and answered attempts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.sql_arrays import insert_rows
from services.bpjs_simulator.adapters.tables import (
    SCHEMA,
    answered,
    deregistrations,
    paid_months,
    participants,
    payers,
    payments,
)
from services.bpjs_simulator.domain.ledger import (
    Answered,
    Continued,
    DeregistrationDecided,
    Fact,
    Issued,
    LatestPayer,
    PayerAdded,
    PayerStopped,
    PaymentDecided,
)

# Payers stopped by a batch's deregistrations, one statement: PostgreSQL's LEAST and COALESCE
# skip NULL, so a payer not ended yet ends on the day named and keeps the first reason given.
_STOP_PAYERS = text(
    f'UPDATE "{SCHEMA}".payers p SET ended_on = LEAST(p.ended_on, s.last_day), '
    "end_reason = COALESCE(p.end_reason, s.reason) "
    "FROM unnest(CAST(:kpjs AS text[]), CAST(:programmes AS text[]), CAST(:days AS date[]), "
    "CAST(:reasons AS text[])) AS s(kpj, programme_code, last_day, reason) "
    "WHERE p.kpj = s.kpj AND p.programme_code = s.programme_code"
)
# Continued participants' latest payer, one statement for the batch.
_CONTINUE = text(
    f'UPDATE "{SCHEMA}".participants p SET worker_id = s.worker_id, programme_code = s.programme_code, '
    "coverage_end = s.coverage_end "
    "FROM unnest(CAST(:niks AS text[]), CAST(:workers AS text[]), CAST(:programmes AS text[]), "
    "CAST(:ends AS date[])) AS s(nik, worker_id, programme_code, coverage_end) WHERE p.nik = s.nik"
)


@dataclass
class _Rows:
    """A batch's facts as rows, one list (or one fold) per table."""

    seq_of: Mapping[str, int]
    issued: dict[str, dict[str, Any]] = field(default_factory=dict)  # NIK -> new participant
    continued: dict[str, LatestPayer] = field(default_factory=dict)  # NIK -> latest payer
    stopped: dict[tuple[str, str], tuple[date, str]] = field(default_factory=dict)
    inserts: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    def add(self, fact: Fact) -> None:
        if isinstance(fact, Issued):
            row = {
                "seq": self.seq_of[fact.kpj],
                "nik": fact.nik,
                "kpj": fact.kpj,
                "registered_at": fact.registered_at,
            }
            self.issued[fact.nik] = row | asdict(fact.latest)
        elif isinstance(fact, Continued) and fact.nik in self.issued:
            self.issued[fact.nik] |= asdict(fact.latest)  # new in this batch: one insert says it all
        elif isinstance(fact, Continued):
            self.continued[fact.nik] = fact.latest
        elif isinstance(fact, PayerStopped):
            key = (fact.kpj, fact.programme_code)
            earlier = self.stopped.get(key)
            self.stopped[key] = (
                (fact.last_day, fact.reason)
                if earlier is None
                else (min(earlier[0], fact.last_day), earlier[1])
            )
        elif isinstance(fact, PayerAdded):
            self.inserts["payers"].append(asdict(fact.payer))
        elif isinstance(fact, DeregistrationDecided):
            self.inserts["deregistrations"].append(asdict(fact.decided))
        elif isinstance(fact, PaymentDecided):
            self.inserts["payments"].append(asdict(fact.decided))
            pid, month = fact.decided.payment_request_id, fact.decided.month
            self.inserts["paid_months"] += [
                {"kpj": k, "month": month, "payment_request_id": pid} for k in fact.booked
            ]
        elif isinstance(fact, Answered):
            self.inserts["answered"].append(asdict(fact))


async def write_facts(conn: AsyncConnection, facts: Sequence[Fact], seq_of: Mapping[str, int]) -> None:
    """Write what a batch decided (`seq_of`: the sequence number each new KPJ was drawn as).
    Several facts about one row fold into one write, as applied one after the other."""
    rows = _Rows(seq_of)
    for fact in facts:
        rows.add(fact)
    if rows.issued:
        await conn.execute(insert_rows(participants, list(rows.issued.values())))
    if rows.continued:
        latest = list(rows.continued.items())
        await conn.execute(
            _CONTINUE,
            {
                "niks": [nik for nik, _ in latest],
                "workers": [p.worker_id for _, p in latest],
                "programmes": [p.programme_code for _, p in latest],
                "ends": [p.coverage_end for _, p in latest],
            },
        )
    # Payers first: a payer added and stopped in one batch is stopped by the update after.
    for table in (payers, deregistrations, paid_months, answered):
        if rows.inserts[table.name]:
            await conn.execute(insert_rows(table, rows.inserts[table.name]))
    if rows.inserts["payments"]:  # a JSONB column (no array codec): a few rows a month anyway
        await conn.execute(insert(payments), rows.inserts["payments"])
    if rows.stopped:
        ends = list(rows.stopped.items())
        await conn.execute(
            _STOP_PAYERS,
            {
                "kpjs": [k for (k, _), _ in ends],
                "programmes": [p for (_, p), _ in ends],
                "days": [d for _, (d, _) in ends],
                "reasons": [r for _, (_, r) in ends],
            },
        )
