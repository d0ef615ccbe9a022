"""A programme year, whole, through the real path: the seed tests (tests/integration/seeds) and
`lindung bench programme-year` both drive a running stack with it.

A programme file (docs/examples) is defined through allocation's HTTP API, scaled by a factor when
asked (seats apportioned per sector, money kept exact: the cap's slack or shortfall scaled with the
seats); the P3KE extract is imported through the registry as officers do; workers are nominated
through all three doors (CSV upload, HTTP, and the inbound topic as a regency system); the decree
is signed over HTTP; BPJS (the simulator) registers them; twelve monthly bills are sent on a moving
business clock (LINDUNG_BUSINESS_CLOCK_FILE) with a death, a withdrawal, a lapse paid in arrears
and, when asked, a stretch of unpaid months that ends the membership; claims are pushed as BPJS
pushes them. The run keeps its own books of who should be billed for which month (`Books`), so
the money can be reconciled against what enrollment billed, to the rupiah.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
import yaml
from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.clock import set_business_now
from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.events.signing import Signer
from libs.events.topics import NOMINATIONS_INBOUND
from libs.identity import worker_id_for
from libs.nik import compose_nik
from libs.regions import desa_of_regency, kecamatan_of_regency
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS
from lindung_cli.benchmarks.workload import BenchWorker
from lindung_cli.demo import FAMILY, HEADER_STYLES, MEN, OCCUPATIONS_OTHER, OCCUPATIONS_SAWIT, WOMEN
from lindung_cli.status import consumer_lag

WIB = timezone(timedelta(hours=7))
DOORS = ("upload", "http", "kafka")


# --- programme files -----------------------------------------------------------------------------


def read_programme(path: Path) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return spec


def _apportion(weights: list[int], total: int) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder): the parts add up exactly."""
    whole = sum(weights)
    exact = [Fraction(w * total, whole) for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def cost_per_worker(spec: dict[str, Any]) -> int:
    """What one seat costs for the whole period, from the file (or the programme defaults the
    allocation service applies: read back from its answer when it matters)."""
    months = int(spec.get("months", 12))
    return (int(spec.get("premium_jkk", 10_000)) + int(spec.get("premium_jkm", 6_800))) * months


def scale_programme(spec: dict[str, Any], code: str, factor: Fraction) -> dict[str, Any]:
    """The programme at `factor` of its size under another code: each sector's seats scaled (at
    least one seat per regency and sector kept) and the cap = seats × cost + the file's slack (or
    shortfall) × factor, which must stay a whole rupiah. A per-village cap is scaled too."""
    quotas = list(spec["quotas"])
    scaled: list[dict[str, Any]] = []
    for sector in dict.fromkeys(q["sector"] for q in quotas):
        cells = [q for q in quotas if q["sector"] == sector]
        total = max(len(cells), round(sum(int(q["seats"]) for q in cells) * factor))
        extra = _apportion([int(q["seats"]) for q in cells], total - len(cells))
        scaled += [{**q, "seats": 1 + n} for q, n in zip(cells, extra, strict=True)]
    cost = cost_per_worker(spec)
    slack = Fraction(int(spec["budget_cap"]) - sum(int(q["seats"]) for q in quotas) * cost) * factor
    if slack.denominator != 1:
        raise ValueError(f"the cap's slack {slack} is not a whole rupiah at factor {factor}")
    out = {**spec, "code": code, "quotas": scaled}
    out["name"] = f"{spec['name']} (uji skala {factor})" if factor != 1 else spec["name"]
    out["budget_cap"] = sum(q["seats"] for q in scaled) * cost + int(slack)
    if spec.get("village_cap"):
        out["village_cap"] = max(1, round(int(spec["village_cap"]) * factor))
    return out


def programme_yaml(spec: dict[str, Any]) -> str:
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def seats_of(spec: dict[str, Any]) -> dict[tuple[str, str], int]:
    return {(str(q["regency"]), str(q["sector"])): int(q["seats"]) for q in spec["quotas"]}


def coverage_months(spec: dict[str, Any]) -> list[str]:
    start: date = spec["coverage_start"]
    return [_add_months(f"{start.year:04d}-{start.month:02d}", k) for k in range(int(spec.get("months", 12)))]


def _add_months(month: str, k: int) -> str:
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + k
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:]), 1)


# --- workers --------------------------------------------------------------------------------------


Worker = BenchWorker  # a worker as the nominating regency knows them (every field right)


def form(w: Worker, programme: str) -> dict[str, Any]:
    """The nomination of `w` as the HTTP route, the inbound topic (and the upload's columns) take it."""
    return {
        "programme_code": programme,
        "nik": w.nik,
        "full_name": w.full_name,
        "birth_date": w.birth_date.isoformat(),
        "sex": w.sex,
        "occupation": w.occupation,
        "regency_code": w.regency,
        "kecamatan": w.kecamatan,
        "desa": w.desa,
        "sector": w.sector,
        "decile": w.decile,
        "source_ref": w.source_ref,
    }


class People:
    """Plausible, unique workers: NIKs with real kecamatan codes of the regency (libs.regions), a
    village of that kecamatan, the demo's names and occupations. Deterministic per seed."""

    def __init__(self, seed: int, year: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.year = year
        self.used: set[str] = set()
        self.count = 0

    def worker(
        self,
        regency: str,
        sector: str,
        *,
        desil: int = 1,
        desa: tuple[str, str] | None = None,
        nik_regency: str | None = None,
    ) -> Worker:
        """A worker living in `regency` (its kecamatan and desa); the NIK issued there, or in
        `nik_regency` (a NIK never changes when its holder moves)."""
        rng = self.rng
        if desa is None:
            kecamatan = rng.choice(kecamatan_of_regency(regency))
            villages = [d for d in desa_of_regency(regency) if d.kecamatan_code == kecamatan.code]
            desa = (kecamatan.name, rng.choice(villages).name if villages else kecamatan.name)
        kecamatan_name, village = desa
        issued = nik_regency or regency
        code = (
            next(k.code for k in kecamatan_of_regency(regency) if k.name == kecamatan_name)
            if nik_regency is None
            else rng.choice(kecamatan_of_regency(nik_regency)).code
        )
        sex = rng.choice("LP")
        while True:
            birth = date(self.year - 60, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38))
            nik = compose_nik(issued, int(code[-2:]), birth, sex, rng.randint(1, 9999))
            if nik not in self.used:
                self.used.add(nik)
                break
        self.count += 1
        first = rng.choice(MEN if sex == "L" else WOMEN)
        occupation = rng.choice(OCCUPATIONS_SAWIT if sector == "sawit" else OCCUPATIONS_OTHER)
        return Worker(
            self.seed * 100_000 + self.count, nik, f"{first} {rng.choice(FAMILY)}".strip(), birth, sex,
            regency, sector, occupation, desil, kecamatan_name, village,
        )  # fmt: skip

    def villages(self, regency: str) -> list[tuple[str, str]]:
        """(kecamatan name, desa name) of every village of the regency, in code order."""
        name = {k.code: k.name for k in kecamatan_of_regency(regency)}
        return [(name[d.kecamatan_code], d.name) for d in desa_of_regency(regency)]


def p3ke_rows(workers: Iterable[Worker]) -> dict[str, int]:
    return {w.nik: w.decile for w in workers}


# --- the stack -------------------------------------------------------------------------------------


@dataclass
class Stack:
    """Where a running stack answers: an HTTP client per service (base URL set), the broker, the
    database (to wait for quiet), and the business clock's file."""

    http: dict[str, httpx.AsyncClient]
    bootstrap: str
    engine: AsyncEngine
    clock_file: Path
    pepper: str
    settle_timeout_s: float = 120.0
    p3ke: dict[str, int] = field(default_factory=dict)  # every row imported so far (a new version replaces)
    dtks: set[str] = field(default_factory=set)
    # Each regency system's event key (the stack's development keys), by producer.
    signers: dict[str, Signer] = field(default_factory=dict)

    def worker_id(self, w: Worker) -> str:
        return worker_id_for(w.nik, self.pepper)

    def today(self, day: date, hour: int = 9) -> None:
        set_business_now(self.clock_file, datetime(day.year, day.month, day.day, hour, tzinfo=WIB))

    async def _counts(self) -> tuple[int, ...]:
        values: list[int] = []
        async with self.engine.connect() as conn:
            for schema in SERVICES_WITH_SCHEMAS:
                row = (
                    await conn.execute(
                        text(
                            f"SELECT (SELECT count(*) FROM {schema}.events),"
                            f" (SELECT count(*) FROM {schema}.inbox),"
                            f" (SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL)"
                        )
                    )
                ).one()
                values += [int(v) for v in row]
        return tuple(values)

    async def settle(self, still_s: float = 0.3) -> None:
        """Until nothing waits in an outbox, no consumer group lags, and counts stay still."""
        timeout_s = self.settle_timeout_s
        deadline = time.monotonic() + timeout_s
        while True:
            before = await self._counts()
            if not any(before[2::3]):
                lags = await consumer_lag(self.bootstrap)
                if not any(lags.get(s) for s in SERVICES_WITH_SCHEMAS):
                    await asyncio.sleep(still_s)
                    if await self._counts() == before:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the stack did not settle within {timeout_s:.0f} s")
            await asyncio.sleep(0.2)

    async def import_reference(self, p3ke: dict[str, int], dtks: Iterable[str] = ()) -> None:
        """Add rows to the P3KE (and DTKS) extracts and import them, as the social office does: each
        import is a new version of the whole extract."""
        self.p3ke.update(p3ke)
        body = "nik,desil\n" + "".join(f"{n},{d}\n" for n, d in self.p3ke.items())
        answer = await self.http["registry"].post(
            "/reference/p3ke", content=body.encode(), params={"source": "p3ke.csv"}
        )
        answer.raise_for_status()
        extra = set(dtks) - self.dtks
        if extra:
            self.dtks |= extra
            body = "nik\n" + "".join(f"{n}\n" for n in sorted(self.dtks))
            answer = await self.http["registry"].post(
                "/reference/dtks", content=body.encode(), params={"source": "dtks.csv"}
            )
            answer.raise_for_status()


# --- the run's own books ------------------------------------------------------------------------------


@dataclass
class Member:
    """A worker the programme pays for, as the run caused it."""

    worker: Worker
    worker_id: str
    nomination_id: str = ""
    enrolled_month: str | None = None
    ended: str | None = None  # why the programme stopped paying (died, moved...)
    last_month: str | None = None  # the last month billable after an end
    membership_ended: bool = False
    kpj: str | None = None


@dataclass
class Books:
    """Who must be billed for which month, from the events the run caused (never read back)."""

    premium: int
    members: dict[str, Member] = field(default_factory=dict)
    billed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    unpaid: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # worker -> months

    def due(self, month: str, regency: str | None = None) -> set[str]:
        """Members a bill of `month` must hold: enrolled by then, no end before the month, not
        billed for it yet."""
        return {
            m.worker_id
            for m in self.members.values()
            if m.enrolled_month is not None
            and m.enrolled_month <= month
            and not m.membership_ended
            and (m.last_month is None or month <= m.last_month)
            and (regency is None or m.worker.regency == regency)
            and m.worker_id not in self.billed[month]
        }

    def worker_months(self) -> int:
        return sum(len(ids) for ids in self.billed.values())

    def total(self) -> int:
        return self.worker_months() * self.premium


# --- one programme year -----------------------------------------------------------------------------


@dataclass
class Year:
    """One programme year driven through `stack`."""

    stack: Stack
    spec: dict[str, Any]
    books: Books = field(init=False)
    timings: dict[str, float] = field(default_factory=dict)
    programme_view: dict[str, Any] = field(default_factory=dict)
    decrees: int = 0
    # HTTP nominations in flight at once: 1 keeps nomination order (the tests); a full-size bench
    # run sends several (its seats are exactly its workers, so order decides nothing there).
    http_concurrency: int = 1
    poll_s: float = 0.2
    enroll_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        months = int(self.spec.get("months", 12))
        self.books = Books(cost_per_worker(self.spec) // months)

    @property
    def code(self) -> str:
        return str(self.spec["code"])

    @property
    def months(self) -> list[str]:
        return coverage_months(self.spec)

    async def timed(self, stage: str, run: Awaitable[Any]) -> Any:
        started = time.monotonic()
        try:
            return await run
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + time.monotonic() - started

    # -- programme and nominations --

    async def define(self) -> dict[str, Any]:
        answer = await self.stack.http["allocation"].post(
            "/programmes", content=programme_yaml(self.spec), headers={"content-type": "application/yaml"}
        )
        if answer.status_code != 201:
            raise RuntimeError(f"programme {self.code} refused: {answer.status_code} {answer.text}")
        self.books.premium = int(answer.json()["premium_per_month"])
        registry = self.stack.http["registry"]
        deadline = time.monotonic() + 30
        while not any(p["programme_code"] == self.code for p in (await registry.get("/programmes")).json()):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the registry did not learn {self.code}")
            await asyncio.sleep(0.1)
        found: dict[str, Any] = answer.json()
        return found

    async def nominate(
        self, workers: list[Worker], doors: Iterable[str] = DOORS
    ) -> dict[str, dict[str, Any]]:
        """Each worker through one door (round robin over `doors`): first every upload row, then the
        HTTP posts, then the inbound topic, so nomination order is the order of `workers` within a
        door and upload < HTTP < topic across doors. Answers the registry's row per NIK (HTTP and
        upload answers; the topic's workers by their source_ref)."""
        chosen = list(doors)
        by_door: dict[str, list[Worker]] = {d: [] for d in chosen}
        for i, w in enumerate(workers):
            by_door[chosen[i % len(chosen)]].append(w)
        answers: dict[str, dict[str, Any]] = {}
        registry = self.stack.http["registry"]
        for door in chosen:
            people = by_door[door]
            if not people:
                continue
            if door == "upload":
                for regency in dict.fromkeys(w.regency for w in people):
                    rows = [w for w in people if w.regency == regency]
                    reply = await registry.post(
                        "/nominations/upload",
                        params={"programme": self.code, "regency": regency},
                        files={"file": (f"usulan-{regency}.csv", _csv(rows), "text/csv")},
                    )
                    reply.raise_for_status()
                    for w, row in zip(rows, reply.json()["results"], strict=True):
                        answers[w.nik] = row
            elif door == "http":
                answers.update(await self._post_all(people))
            else:
                await self._publish(people)
                answers.update(await self._decided_from_topic(people))
        return answers

    async def _post_all(self, people: list[Worker]) -> dict[str, Any]:
        """POST /nominations for each, `http_concurrency` at a time (1: in order)."""
        registry = self.stack.http["registry"]
        gate = asyncio.Semaphore(self.http_concurrency)
        answers: dict[str, Any] = {}

        async def post(w: Worker) -> None:
            async with gate:
                reply = await registry.post("/nominations", json=form(w, self.code))
            if reply.status_code not in (201, 422):
                reply.raise_for_status()
            answers[w.nik] = reply.json()

        if self.http_concurrency == 1:
            for w in people:
                await post(w)
        else:
            await asyncio.gather(*(post(w) for w in people))
        return answers

    async def _publish(self, people: list[Worker]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.stack.bootstrap)
        await producer.start()
        try:
            for w in people:
                event = NominationSubmitted(**form(w, self.code))
                envelope = Envelope(
                    event_type=event.event_type,
                    schema_version=event.schema_version,
                    aggregate_id=f"submission-{w.source_ref}",
                    aggregate_version=1,
                    correlation_id=uuid.uuid4(),
                    producer=f"regency-{w.regency}",
                    payload=event.model_dump(mode="json"),
                )
                # One at a time: the regency system's own order is the nomination order.
                value = envelope.to_bytes()
                signer = self.stack.signers.get(envelope.producer)
                await producer.send_and_wait(
                    NOMINATIONS_INBOUND,
                    value,
                    key=w.source_ref.encode(),
                    headers=signer.headers(value) if signer else None,
                )
        finally:
            await producer.stop()

    async def _decided_from_topic(self, people: list[Worker], timeout_s: float = 900.0) -> dict[str, Any]:
        """The registry's rows of the workers sent on the inbound topic, once all are decided."""
        registry = self.stack.http["registry"]
        wanted = {w.source_ref: w for w in people}
        deadline = time.monotonic() + timeout_s
        while True:
            found: dict[str, Any] = {}
            page = 1
            while True:
                reply = await registry.get(
                    "/nominations",
                    params={"programme": self.code, "channel": "kafka", "page": page, "per_page": 500},
                )
                body = reply.json()
                for row in body["items"]:
                    if row.get("source_ref") in wanted and row["status"] != "pending":
                        found[wanted[row["source_ref"]].nik] = row
                if page * 500 >= body["total"]:
                    break
                page += 1
            if len(found) == len(wanted):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(wanted) - len(found)} topic nominations not decided by the registry"
                )
            await asyncio.sleep(self.poll_s)

    async def view(self) -> dict[str, Any]:
        reply = await self.stack.http["allocation"].get(f"/programmes/{self.code}")
        reply.raise_for_status()
        self.programme_view = reply.json()
        return self.programme_view

    async def assignments(self, status: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, str | int] = {"limit": 20_000, **({"status": status} if status else {})}
        reply = await self.stack.http["allocation"].get(f"/programmes/{self.code}/assignments", params=params)
        reply.raise_for_status()
        found: list[dict[str, Any]] = reply.json()
        return found

    async def decree(self, day: date, signer: str) -> dict[str, Any]:
        """The decree (first: SK; later: SK perubahan), signed on `day`."""
        self.decrees += 1
        self.stack.today(day)
        body = {"number": f"{self.code}/SK/{self.decrees}", "date": day.isoformat(), "signer": signer}
        reply = await self.stack.http["allocation"].post(f"/programmes/{self.code}/decrees", json=body)
        if reply.status_code not in (200, 201):
            raise RuntimeError(f"decree refused: {reply.status_code} {reply.text}")
        found: dict[str, Any] = reply.json()
        return found

    async def enrolled(self) -> dict[str, dict[str, Any]]:
        """Every registration of the programme at enrollment (HTTP), by worker id."""
        out: dict[str, dict[str, Any]] = {}
        page = 1
        while True:
            reply = await self.stack.http["enrollment"].get(
                "/enrollments", params={"programme": self.code, "page": page, "per_page": 500}
            )
            reply.raise_for_status()
            body = reply.json()
            out.update({e["worker_id"]: e for e in body["items"]})
            if page * 500 >= body["total"]:
                return out
            page += 1

    async def wait_enrolled(self, members: Iterable[Member], month: str) -> None:
        """Until BPJS has registered every one of `members`; they are billable from `month`."""
        waiting = {m.worker_id: m for m in members}
        timeout_s = self.enroll_timeout_s
        deadline = time.monotonic() + timeout_s
        while waiting:
            rows = await self.enrolled()
            for wid in list(waiting):
                row = rows.get(wid)
                if row and row["status"] == "enrolled":
                    waiting[wid].enrolled_month = month
                    waiting[wid].kpj = row["kpj"]
                    del waiting[wid]
            if waiting and time.monotonic() > deadline:
                raise TimeoutError(f"{len(waiting)} workers of {self.code} not enrolled in {timeout_s:.0f} s")
            if waiting:
                await asyncio.sleep(self.poll_s)

    # -- premiums --

    async def bill(self, month: str, day: date, regency: str | None = None) -> dict[str, Any]:
        """Bill `month` on business day `day` (for one regency, or all); the books note who is due."""
        self.stack.today(day)
        body: dict[str, Any] = {"programme_code": self.code, "month": month}
        if regency is not None:
            body["regency_code"] = regency
        reply = await self.stack.http["enrollment"].post("/premiums/bills", json=body)
        if reply.status_code != 201:
            raise RuntimeError(f"bill {self.code} {month} refused: {reply.status_code} {reply.text}")
        self.books.billed[month] |= self.books.due(month, regency)
        found: dict[str, Any] = reply.json()
        return found

    async def record_lapses(self, day: date) -> dict[str, Any]:
        self.stack.today(day)
        reply = await self.stack.http["enrollment"].post("/coverage/lapses")
        reply.raise_for_status()
        found: dict[str, Any] = reply.json()
        return found

    async def month_bills(self) -> dict[str, dict[str, Any]]:
        """What enrollment says it billed, month by month (HTTP)."""
        out = {}
        for month in self.months:
            reply = await self.stack.http["enrollment"].get(
                "/premiums/bills", params={"programme": self.code, "month": month}
            )
            reply.raise_for_status()
            out[month] = reply.json()
        return out

    async def withdraw(self, member: Member, reason: str, day: date, last_month: str) -> None:
        """The officer withdraws the nomination (died, moved...) on `day`; `last_month` is the last
        month the programme pays for (already billed in advance)."""
        self.stack.today(day)
        reply = await self.stack.http["registry"].post(
            f"/nominations/{member.nomination_id}/withdrawal", json={"reason": reason}
        )
        if reply.status_code != 201:
            raise RuntimeError(f"withdrawal refused: {reply.status_code} {reply.text}")
        member.ended = reason
        member.last_month = last_month

    # -- claims --

    async def claim(
        self, member: Member, programme: str, benefit: str, incident: date, amount: int, claim_id: str
    ) -> None:
        """BPJS pays a claim and pushes it (the simulator's control route)."""
        assert member.kpj is not None
        body = {
            "kpj": member.kpj,
            "programme": programme,
            "benefit_kind": benefit,
            "incident_date": incident.isoformat(),
            "amount": amount,
            "claim_id": claim_id,
        }
        reply = await self.stack.http["bpjs_simulator"].post("/control/claims", json=body)
        if reply.status_code != 202:
            raise RuntimeError(f"claim refused: {reply.status_code} {reply.text}")

    async def dashboard(self) -> dict[str, Any]:
        reply = await self.stack.http["dashboard"].get(f"/api/programmes/{self.code}/summary")
        reply.raise_for_status()
        found: dict[str, Any] = reply.json()
        return found


def bill_day(months: list[str], k: int) -> date:
    """Bills for month k go out ten days before it starts (premiums are paid in advance)."""
    return first_day(months[k]) - timedelta(days=10)


async def _bill_month(year: Year, plan: Plan, month: str, day: date, index: int) -> None:
    """Bill `month`, except for whoever the plan stops paying for from `plan.stop_from`."""
    if plan.stop_from is None or index < plan.stop_from:
        await year.bill(month, day)
        return
    if plan.stop_for is None:
        return  # the whole programme stops paying
    for regency in sorted({r for r, _ in seats_of(year.spec)} - {plan.stop_for}):
        await year.bill(month, day, regency)


def _csv(people: list[Worker]) -> bytes:
    """A regency's list as its spreadsheet exports it (semicolons, DD-MM-YYYY, Indonesian headers)."""
    separator, headers, date_format, sex_words = HEADER_STYLES[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\n")
    writer.writerow(headers)
    for p in people:
        writer.writerow(
            [
                p.nik, p.full_name, p.birth_date.strftime(date_format), sex_words[0 if p.sex == "L" else 1],
                p.occupation, p.kecamatan, p.desa, f"Dusun 1, {p.desa}", "", p.sector, str(p.decile),
            ]
        )  # fmt: skip
    return buffer.getvalue().encode()


# --- the standard year ---------------------------------------------------------------------------------


@dataclass
class Plan:
    """What happens in the year besides paying: who dies, who leaves, which month is paid late,
    who stops being paid for (a regency, or the whole programme: None) from which month."""

    signer: str
    death_in: int = 2  # index of the month the worker dies in (0 = the first month)
    withdrawal_in: int = 4
    late_month: int | None = 5  # not billed on time, paid with the bill two months later
    stop_from: int | None = None  # months from here on are never billed for `stop_for`
    stop_for: str | None = None  # a regency code; None with stop_from: the whole programme


@dataclass
class Outcome:
    year: Year
    members: dict[str, Member]
    dead: Member | None = None
    withdrawn: Member | None = None
    promoted: Member | None = None
    stopped: list[Member] = field(default_factory=list)
    lapse_claims: list[tuple[Member, date]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # the registry's, by NIK


async def run_year(
    stack: Stack,
    spec: dict[str, Any],
    seated: list[Worker],
    plan: Plan,
    *,
    waiting: list[Worker] = (),  # type: ignore[assignment]
    others: list[Worker] = (),  # type: ignore[assignment]
    extract: dict[str, int] | None = None,
    dtks: Iterable[str] = (),
    before_decree: Callable[[Year], Awaitable[None]] | None = None,
    tune: Callable[[Year], None] | None = None,
) -> Outcome:
    """The standard year: `seated` (exactly the seats: each takes one), then `waiting` (no seat left:
    the first is promoted when the worker of `plan.death_in` dies), and `others` (rejected) through
    the three doors; the decree; BPJS; the months with the plan's events. `extract`: the P3KE rows
    to import (default: every seated and waiting worker at their desil). `tune` adjusts the
    year's pace (HTTP concurrency, polling, timeouts) before it starts."""
    year = Year(stack, spec)
    if tune is not None:
        tune(year)
    months = year.months
    start = first_day(months[0])
    stack.today(start - timedelta(days=45))
    await year.timed("define", year.define())
    rows = p3ke_rows([*seated, *waiting]) if extract is None else extract
    await year.timed("reference", stack.import_reference(rows, dtks))
    answers = await year.timed("nominate", year.nominate([*seated, *others]))
    if waiting:  # after every other nomination: they wait for a seat, in this order
        answers.update(await year.timed("nominate", year.nominate(list(waiting), doors=("http",))))
    await year.timed("validate+allocate", stack.settle())
    members = {stack.worker_id(w): Member(w, stack.worker_id(w)) for w in [*seated, *waiting]}
    for m in members.values():
        m.nomination_id = str(answers[m.worker.nik].get("nomination_id") or "")
    if before_decree is not None:
        await before_decree(year)
    await year.timed("decree", year.decree(start - timedelta(days=20), plan.signer))
    first = [members[stack.worker_id(w)] for w in seated]
    await year.timed("enroll", year.wait_enrolled(first, months[0]))
    year.books.members.update({m.worker_id: m for m in first})
    await year.timed("enroll", stack.settle())
    outcome = Outcome(year, members, answers=answers)

    stopped_regency = plan.stop_for if plan.stop_from is not None else None
    for k, month in enumerate(months):
        # Bills for month k go out ten days before it (premiums are paid in advance).
        to_bill = [] if k == plan.late_month else [k]
        if plan.late_month is not None and k == plan.late_month + 2:
            to_bill = [plan.late_month, k]  # the late month in arrears, with this month's
        for j in to_bill:
            await year.timed("bill", _bill_month(year, plan, months[j], bill_day(months, k), j))
        unpaid = k == plan.late_month or (plan.stop_from is not None and k >= plan.stop_from)
        if unpaid:
            # The month started unpaid: enrollment records the lapse on the day it checks (once
            # BPJS has confirmed every payment sent before).
            await year.timed("bill", stack.settle())
            await year.record_lapses(first_day(month) + timedelta(days=2))
        if k == plan.late_month and len(first) > 2:
            # A claim while the lapse is in force (before the arrears are paid), days after the
            # lapse was recorded: claims has heard of it by then.
            await stack.settle()
            claimant = first[2]
            incident = first_day(month) + timedelta(days=3)
            year.stack.today(incident + timedelta(days=2))
            await year.claim(claimant, "JKK", "MEDICAL", incident, 1_500_000, f"{year.code}-LAPSE")
            outcome.lapse_claims.append((claimant, incident))
        if k == plan.death_in and len(first) > 2:
            dead = first[0]
            await year.withdraw(dead, "died", first_day(month) + timedelta(days=14), month)
            outcome.dead = dead
            await stack.settle()
            if waiting:
                promoted = members[stack.worker_id(waiting[0])]
                await year.timed("decree", year.decree(first_day(month) + timedelta(days=17), plan.signer))
                await year.timed("enroll", year.wait_enrolled([promoted], month))
                year.books.members[promoted.worker_id] = promoted
                outcome.promoted = promoted
                # Paid from the next month: this month's premium for the seat went with the worker
                # who died (a month's bill never holds more workers than the programme has seats).
        if k == plan.withdrawal_in and len(first) > 2:
            gone = first[1]
            await year.withdraw(gone, "moved", first_day(month) + timedelta(days=14), month)
            outcome.withdrawn = gone
            await stack.settle()
    await year.timed("bill", stack.settle())
    if plan.stop_from is not None:
        outcome.stopped = [
            m
            for m in year.books.members.values()
            if m.ended is None and (stopped_regency is None or m.worker.regency == stopped_regency)
        ]
        # Past the end: more months unpaid than BPJS accepts in arrears ends the membership.
        await year.record_lapses(first_day(_add_months(months[-1], 1)) + timedelta(days=15))
        await stack.settle()
        for m in outcome.stopped:
            m.membership_ended = True
    return outcome


# --- `lindung bench programme-year` --------------------------------------------------------------------

SIGNERS = {"SK_GUBERNUR": "Gubernur Sumatera Utara", "SK_BUPATI": "Bupati", "PERKADA": "Kepala Daerah"}


def bench_cast(spec: dict[str, Any], seed: int) -> tuple[list[Worker], list[Worker], list[Worker]]:
    """(seated, waiting, rejected) for a full year of `spec`: a worker for every seat the money
    pays for (desil 1), the rest of the seats' workers and one more in the first cell waiting
    (desil 2, nominated last), and one worker at desil 3 the registry refuses."""
    people = People(seed, int(spec["year"]))
    every = [people.worker(r, s) for (r, s), n in seats_of(spec).items() for _ in range(n)]
    affordable = min(len(every), int(spec["budget_cap"]) // cost_per_worker(spec))
    first = every[0]
    waiting = [people.worker(w.regency, w.sector, desil=2) for w in every[affordable:]]
    waiting.append(people.worker(first.regency, first.sector, desil=2))
    return every[:affordable], waiting, [people.worker(first.regency, first.sector, desil=3)]


async def bench_year(stack: Stack, spec: dict[str, Any], *, seed: int = 2025) -> dict[str, Any]:
    """One full year of `spec` on `stack`; the money reconciled and the time of each stage."""
    seated, waiting, rejected = bench_cast(spec, seed)
    regencies = sorted({r for r, _ in seats_of(spec)})
    plan = Plan(
        signer=SIGNERS.get(str(spec.get("decree_kind")), "Kepala Daerah"),
        stop_from=8,
        stop_for=regencies[1] if len(regencies) > 1 else None,
    )

    def pace(year: Year) -> None:
        year.http_concurrency, year.poll_s, year.enroll_timeout_s = 8, 2.0, 3600.0

    started = time.monotonic()
    outcome = await run_year(
        stack,
        spec,
        seated,
        plan,
        waiting=waiting,
        others=rejected,
        extract=p3ke_rows([*seated, *waiting, *rejected]),
        tune=pace,
    )
    wall = time.monotonic() - started
    year, books = outcome.year, outcome.year.books
    bills = await year.month_bills()
    view = await year.view()
    billed = sum(b["totals"]["total"] for b in bills.values())
    paid = sum(b["totals"]["paid_total"] for b in bills.values())
    cap = int(spec["budget_cap"])
    return {
        "kind": "programme-year",
        "programme": year.code,
        "name": spec["name"],
        "seats": sum(seats_of(spec).values()),
        "workers_nominated": len(seated) + len(waiting) + len(rejected),
        "workers_enrolled": len(books.members),
        "premium_per_month": books.premium,
        "money": {
            "budget_cap": cap,
            "quota_cost": view["budget"]["quota_cost"],
            "quota_headroom": view["budget"]["quota_headroom"],
            "shortfall": view["budget"]["shortfall"],
            "billed": billed,
            "paid": paid,
            "covered_worker_months": books.worker_months(),
            "expected_billed": books.total(),
            "reconciled": billed == books.total() == paid,
            "within_cap": billed <= cap,
            "headroom_after_year": cap - billed,
        },
        "months": {
            month: {"workers": b["totals"]["workers"], "total": b["totals"]["total"]}
            for month, b in bills.items()
        },
        "events": {
            "died": 1 if outcome.dead else 0,
            "withdrawn": 1 if outcome.withdrawn else 0,
            "promoted": 1 if outcome.promoted else 0,
            "memberships_ended": len(outcome.stopped),
            "late_month": year.months[plan.late_month] if plan.late_month is not None else None,
        },
        "timings_s": {k: round(v, 2) for k, v in year.timings.items()},
        "wall_s": round(wall, 1),
    }


def year_chart(result: dict[str, Any], out: Path) -> Path:
    """Stage timings, and the money: cap, quota cost, billed against the covered worker-months."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    stages = list(result["timings_s"])
    left.barh(stages, [result["timings_s"][s] for s in stages], color="tab:blue")
    left.invert_yaxis()
    left.set_xlabel("seconds")
    left.set_title(
        f"{result['programme']}: {result['workers_enrolled']:,} enrolled, {result['wall_s']:.0f} s"
    )
    money = result["money"]
    labels = ["budget cap", "quota cost", "billed", "worker-months × premium"]
    values = [money["budget_cap"], money["quota_cost"], money["billed"], money["expected_billed"]]
    bars = right.bar(
        labels, [v / 1e6 for v in values], color=["grey", "tab:orange", "tab:green", "tab:olive"]
    )
    for bar, value in zip(bars, values, strict=True):
        where = (bar.get_x() + bar.get_width() / 2, bar.get_height())
        right.annotate(f"Rp{value:,}".replace(",", "."), where, ha="center", va="bottom", fontsize=7)
    right.set_ylabel("Rp million")
    right.set_title(
        f"{money['covered_worker_months']:,} covered worker-months; "
        f"reconciled: {'yes' if money['reconciled'] else 'NO'}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def run_bench(programme: Path, factor: Fraction, out_dir: Path, *, log: Path | None = None) -> dict[str, Any]:
    """A stack of its own (lindung_cli.benchmarks.stack), its business clock in a scratch file,
    one year of the programme file at `factor` of its size; JSON and PNG written to `out_dir`."""
    import os
    import tempfile

    from libs.db import make_engine
    from libs.settings import Settings
    from lindung_cli.benchmarks.stack import own_stack

    spec = read_programme(programme)
    if factor != 1:
        spec = scale_programme(spec, f"{spec['code']}-{factor.numerator}-{factor.denominator}", factor)
    scratch = Path(tempfile.mkdtemp(prefix="lindung-year-"))
    clock = scratch / "business-now"
    clock.write_text(datetime(int(spec["year"]) - 1, 11, 1, 9, tzinfo=WIB).isoformat(), encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update(
        {"LINDUNG_BUSINESS_CLOCK_FILE": str(clock), "LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S": "0"}
    )
    try:
        with own_stack({}, log=log or scratch / "services.log") as running:
            target = running.target()

            async def go() -> dict[str, Any]:
                engine = make_engine(running.database_url)
                clients = {
                    name: httpx.AsyncClient(base_url=target.urls[name], timeout=600.0)
                    for name in (
                        "registry",
                        "allocation",
                        "enrollment",
                        "bpjs_simulator",
                        "claims",
                        "dashboard",
                    )
                }
                try:
                    stack = Stack(clients, running.bootstrap, engine, clock, Settings().nik_pepper, 3600.0)
                    stack.signers = target.signers()
                    return await bench_year(stack, spec)
                finally:
                    for client in clients.values():
                        await client.aclose()
                    await engine.dispose()

            result = asyncio.run(go())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    stamp = datetime.now(WIB).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / f"programme-year-{stamp}.json"
    import json

    report.write_text(json.dumps({**result, "stamp": stamp, "file": str(programme)}, indent=1) + "\n")
    result["json"], result["png"] = (
        str(report),
        str(year_chart(result, out_dir / f"programme-year-{stamp}.png")),
    )
    return result
