"""A province-year, generated deterministically: the 2025 provincial quota (scaled down) for all 33
regencies/cities, thousands of workers through every stage, premiums and claims.

The generator keeps its own books as it emits the events (who is seated, waiting, decreed,
enrolled...), so the test can hold the dashboard to figures it did not compute itself.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from tests.integration.dashboard.support import COST, PREMIUM, Feed, Person, person

DEMO_PROGRAMME = Path(__file__).resolve().parents[3] / "docs" / "examples" / "demo-sumut-2026.yaml"
REJECTIONS = [  # (code, weight): the usual reasons, most often not in P3KE/DTKS
    ("NOT_IN_P3KE_OR_DTKS", 40),
    ("DECILE_NOT_ALLOWED", 18),
    ("DUPLICATE_NOMINATION", 12),
    ("NIK_BIRTHDATE_MISMATCH", 9),
    ("ALREADY_BPJS_PARTICIPANT", 8),
    ("AGE_ABOVE_MAX", 6),
    ("OCCUPATION_NOT_ALLOWED", 4),
    ("NIK_REGENCY_MISMATCH", 3),
]
MONTHS = [f"2025-{m:02d}" for m in range(3, 11)]
PREMIUM_MONTHS = MONTHS[:6]
DECREE = "188.44/215/KPTS/2025"


@dataclass
class Worker:
    person: Person
    nomination_id: str
    status: str = "nominated"  # nominated | rejected | assigned | waitlisted | released
    decreed: bool = False
    enrolment: str | None = None  # enrolled | failed
    lapsed: bool = False


@dataclass
class ProvinceYear:
    feed: Feed
    seats: dict[tuple[str, str], int]
    workers: list[Worker] = field(default_factory=list)
    rejected_reasons: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    claims: dict[str, dict[str, int]] = field(default_factory=dict)  # regency -> claims, amount
    paid: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    def expected(self, regency: str) -> dict[str, int]:
        """What the dashboard must show for one regency, from the generator's own books."""
        mine = [w for w in self.workers if w.person.regency == regency]
        holding = [w for w in mine if w.status == "assigned"]
        counts = {
            "seats": sum(n for (r, _), n in self.seats.items() if r == regency),
            "nominated": len(mine),
            "validated": sum(1 for w in mine if w.status not in ("nominated", "rejected")),
            "rejected": sum(1 for w in mine if w.status == "rejected"),
            "assigned": len(holding),
            "waitlisted": sum(1 for w in mine if w.status == "waitlisted"),
            "released": sum(1 for w in mine if w.status == "released"),
            "decreed": sum(1 for w in holding if w.decreed),
            "enrolled": sum(1 for w in holding if w.enrolment == "enrolled"),
            "failed": sum(1 for w in mine if w.enrolment == "failed"),
            "lapsed": sum(1 for w in mine if w.lapsed),
        }
        counts["committed"] = counts["assigned"] * COST
        counts["paid"] = self.paid.get(regency, 0)
        counts["claims"] = self.claims.get(regency, {}).get("claims", 0)
        counts["claims_amount"] = self.claims.get(regency, {}).get("amount", 0)
        return counts


def _quota(scale: int) -> dict[tuple[str, str], int]:
    spec = yaml.safe_load(DEMO_PROGRAMME.read_text(encoding="utf-8"))
    return {(q["regency"], q["sector"]): max(12, round(q["seats"] / scale)) for q in spec["quotas"]}


def province_year(programme: str, *, seed: int = 2025, scale: int = 5) -> ProvinceYear:
    """The events of one provincial programme year, and the books kept while emitting them."""
    rng = random.Random(seed)
    seats = _quota(scale)
    feed = Feed(programme)
    cap = -(-sum(seats.values()) * COST // 10_000_000) * 10_000_000  # the cost, rounded up to Rp10 juta
    feed.define("Bantuan iuran BPJS Ketenagakerjaan pekerja rentan Sumatera Utara 2025", 2025, cap, seats)
    year = ProvinceYear(feed, seats)
    codes, weights = zip(*REJECTIONS, strict=True)
    waiting: dict[tuple[str, str], list[Worker]] = defaultdict(list)
    taken: dict[tuple[str, str], int] = defaultdict(int)
    serial = 0
    for (regency, sector), n in seats.items():
        for _ in range(round(n * rng.uniform(0.82, 1.22))):
            serial += 1
            w = Worker(person(regency, sector, serial, seed), "")
            w.nomination_id = feed.nominate(w.person)
            year.workers.append(w)
            if rng.random() < 0.085:
                reasons = list(dict.fromkeys(rng.choices(codes, weights, k=rng.choice((1, 1, 1, 2)))))
                feed.reject(w.person, w.nomination_id, *reasons)
                w.status = "rejected"
                for code in reasons:
                    year.rejected_reasons[code] += 1
                continue
            feed.validate(w.person, w.nomination_id)
            cell = waiting[(regency, sector)]
            if taken[(regency, sector)] < n:
                feed.assign(w.person, w.nomination_id)
                w.status = "assigned"
                taken[(regency, sector)] += 1
            else:
                cell.append(w)
                feed.waitlist(w.person, w.nomination_id, position=len(cell))
                w.status = "waitlisted"
    seated = [w for w in year.workers if w.status == "assigned"]
    feed.decree(DECREE, 1, len(seated))
    for w in seated:
        feed.decreed(w.person, DECREE)
        w.decreed = True
    for w in seated:
        if rng.random() < 0.975:
            feed.enrol(w.person)
            w.enrolment = "enrolled"
            if rng.random() < 0.006:
                feed.lapse(w.person)
                w.lapsed = True
            continue
        feed.fail(w.person, rng.choice(("NIK_NOT_FOUND", "AGE_OUT_OF_RANGE", "ALREADY_REGISTERED")))
        w.enrolment = "failed"
        feed.release(w.person, "enrollment_failed")
        w.status = "released"
        queue = waiting[(w.person.regency, w.person.sector)]
        if queue:  # the seat goes to the first in line (who waits for the next decree)
            nxt = queue.pop(0)
            feed.assign(nxt.person, nxt.nomination_id, promoted=True)
            nxt.status = "assigned"
    _premiums(year)
    _claims(year, rng)
    return year


def _premiums(year: ProvinceYear) -> None:
    enrolled: dict[str, int] = defaultdict(int)
    for w in year.workers:
        if w.status == "assigned" and w.enrolment == "enrolled":
            enrolled[w.person.regency] += 1
    for regency, workers in sorted(enrolled.items()):
        for month in PREMIUM_MONTHS:
            year.feed.premium(regency, month, workers)
            year.paid[regency] += workers * PREMIUM


def _claims(year: ProvinceYear, rng: random.Random) -> None:
    covered = [w for w in year.workers if w.enrolment == "enrolled"]
    for i in range(260):
        w = rng.choice(covered)
        jkm = i % 8 in (0, 3, 6)
        month = rng.choice(MONTHS)
        amount = 42_000_000 if jkm else rng.randrange(10, 500) * 50_000
        claim_id = f"{year.feed.programme}-K{i:04d}"
        paid = date(int(month[:4]), int(month[5:]), rng.randint(1, 28))
        kind, benefit = ("JKM", "DEATH") if jkm else ("JKK", "MEDICAL")
        year.feed.claim(claim_id, w.person, kind, benefit, paid, amount)
        if rng.random() < 0.07:
            flag = rng.choice(("INCIDENT_OUTSIDE_COVERAGE", "AMOUNT_ABOVE_BENEFIT"))
            year.feed.flag(claim_id, w.person, flag)
        slot = year.claims.setdefault(w.person.regency, {"claims": 0, "amount": 0})
        slot["claims"] += 1
        slot["amount"] += amount
