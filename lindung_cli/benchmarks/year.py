"""One programme year's actions on a running stack, each as officers, regency systems and BPJS
take it (over HTTP, or the inbound topic): define, nominate through three doors, decree, wait for
enrollment, bill, record lapses, withdraw, claim; and what the stack answers about them."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.events.topics import NOMINATIONS_INBOUND
from lindung_cli.benchmarks.programme_file import cost_per_worker, coverage_months, first_day, programme_yaml
from lindung_cli.benchmarks.running_stack import Stack
from lindung_cli.benchmarks.year_books import Books, Member
from lindung_cli.benchmarks.year_people import Worker, form, upload_csv

DOORS = ("upload", "http", "kafka")


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
                        files={"file": (f"usulan-{regency}.csv", upload_csv(rows), "text/csv")},
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
