"""What every seed test asserts about its year: the money to the rupiah against the run's own books,
nobody billed after their end, claims flagged for the right reason, the dashboard's figures, and
the audit commands on the stack's database."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from libs.events import topics
from libs.events.envelope import Envelope
from lindung_cli.benchmarks.programme_year import Member, Outcome, Stack, Year, programme_yaml, seats_of
from tests.integration.audit.support import lindung
from tests.running import eventually, read_matching


async def enrollment_events(year: Year, types: set[str], expected: int = 0) -> list[Envelope]:
    """The programme's events of `types` on enrollment's topic (read where a consumer reads them)."""

    def keep(record: Any) -> bool:
        env = Envelope.from_bytes(record.value)
        return env.event_type in types and env.payload.get("programme_code") == year.code

    records = await read_matching(year.stack.bootstrap, topics.ENROLLMENT, keep, expected, timeout_s=5)
    return [Envelope.from_bytes(r.value) for r in records]


async def assert_money(outcome: Outcome) -> dict[str, Any]:
    """Each month's bill holds exactly the workers the run's books say (so nobody after their end),
    every bill is paid, the total is Σ covered worker-months × the premium, and never above the
    cap nor more workers in a month than the programme has seats."""
    year, books = outcome.year, outcome.year.books
    bills = await year.month_bills()
    n_bills = sum(len(line["bills"]) for b in bills.values() for line in b["lines"])
    billed = await enrollment_events(year, {"PremiumBilled"}, n_bills)
    seen: dict[str, list[str]] = defaultdict(list)
    for env in billed:
        seen[env.payload["month"]] += env.payload["worker_ids"]
    for month in year.months:
        assert sorted(seen.get(month, [])) == sorted(books.billed.get(month, set())), month
        totals = bills[month]["totals"]
        assert totals["total"] == len(books.billed.get(month, set())) * books.premium, month
        assert totals["paid_total"] == totals["total"], (month, bills[month])
    total = sum(b["totals"]["total"] for b in bills.values())
    assert total == books.total() == books.worker_months() * books.premium
    cap = int(year.spec["budget_cap"])
    assert total <= cap
    seats = sum(seats_of(year.spec).values())
    assert all(len(ids) <= seats for ids in seen.values())
    for m in books.members.values():
        months = [month for month, ids in seen.items() if m.worker_id in ids]
        if m.last_month is not None:
            assert all(month <= m.last_month for month in months), (m.ended, months)
    return {"billed": total, "worker_months": books.worker_months(), "cap": cap, "headroom": cap - total}


async def define_full_size(stack: Stack, spec: dict[str, Any], code: str) -> dict[str, Any]:
    """The real file under `code`, at full size, through allocation's API: its budget answer."""
    answer = await stack.http["allocation"].post(
        "/programmes",
        content=programme_yaml({**spec, "code": code}),
        headers={"content-type": "application/yaml"},
    )
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


Case = tuple[Member | None, str, str, Any, int, list[str]]  # who, JKK/JKM, benefit, incident, Rp, flags


async def assert_claims(year: Year, cases: dict[str, Case], lapse: bool = True) -> None:
    """BPJS pays and pushes each claim; claims flags each with exactly the codes expected (and the
    claim the year pushed during its lapse, IN_LAPSE)."""
    for label, (member, kind, benefit, incident, amount, _) in cases.items():
        assert member is not None, label
        await year.claim(member, kind, benefit, incident, amount, f"{year.code}-{label}")
    await year.stack.settle()
    for label, (*_, expected) in cases.items():
        assert await claim_codes(year, f"{year.code}-{label}") == expected, label
    if lapse:
        assert await claim_codes(year, f"{year.code}-LAPSE") == ["IN_LAPSE"]


async def claim_codes(year: Year, claim_id: str) -> list[str]:
    """The flags claims recorded for `claim_id` (HTTP), once the claim is there."""

    async def recorded() -> Any:
        reply = await year.stack.http["claims"].get(f"/claims/{claim_id}")
        return reply.json() if reply.status_code == 200 else None

    claim = await eventually(recorded, timeout_s=30)
    return [f["code"] for f in claim.get("flags") or []]


async def assert_ended(outcome: Outcome) -> None:
    """Enrollment recorded the end of every release (CoverageEnded) with its reason, and the end of
    the membership of every worker the plan stopped paying for (MembershipEnded)."""
    year = outcome.year
    released = [m for m in (outcome.dead, outcome.withdrawn) if m is not None]
    ended = await enrollment_events(year, {"CoverageEnded"}, len(released))
    reasons = {e.payload["worker_id"]: e.payload["reason"] for e in ended}
    for m in released:
        assert m.worker_id in reasons, f"no CoverageEnded for a worker who {m.ended}"
    if outcome.dead is not None:
        assert reasons[outcome.dead.worker_id] in ("died", "DIED")
    gone = {m.worker_id for m in outcome.stopped if m.membership_ended}
    if gone:
        memberships = await enrollment_events(year, {"MembershipEnded"}, len(gone))
        assert {e.payload["worker_id"] for e in memberships} == gone


async def assert_dashboard(outcome: Outcome, money: dict[str, Any]) -> dict[str, Any]:
    """The dashboard's figures (HTTP /api/*) agree with the run: premiums paid to the rupiah."""
    year = outcome.year

    async def caught_up() -> Any:
        summary = await year.dashboard()
        return summary if summary["totals"]["paid"] == money["billed"] else None

    summary = await eventually(caught_up, timeout_s=30, interval_s=0.5)
    listed = (await year.stack.http["dashboard"].get("/api/programmes")).json()
    assert year.code in {p["code"] for p in listed["items"]}
    return dict(summary)


async def assert_audit() -> None:
    """`lindung audit verify` and `lindung audit replay all` on the stack's database (DATABASE_URL)."""
    verified = await lindung("audit", "verify")
    assert verified.exit_code == 0, verified.output
    replayed = await lindung("audit", "replay", "all")
    assert replayed.exit_code == 0, replayed.output
