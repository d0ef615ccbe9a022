"""Closed by default, through the real path: services started as processes refuse to run open
outside development mode; the CLI sends its key; the simulator's control panel is BPJS's alone and
only in development; a withdrawal over HTTP records who withdrew."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select

from libs.db import make_engine
from libs.events import Envelope, topics
from libs.eventstore.postgres import PostgresStore
from libs.nik import compose_nik
from services.registry.adapters.projections import project_batch
from services.registry.adapters.tables import eventstore as registry_tables
from services.registry.application.nominate import stream_of
from tests.infra import run_id
from tests.integration.closed_by_default.conftest import (
    KEYS,
    OFFICER_NAME,
    SAMOSIR,
    ClosedStack,
    Place,
    answering,
    bearer,
    exit_code,
)
from tests.integration.faults.cluster import ServiceProcess
from tests.running import eventually, read_topic
from tests.support.appending import append
from tests.support.old_contracts import WithdrawnV1

PROGRAMME = f"TERTUTUP-{run_id()}-2026"
PROGRAMME_YAML = f"""
code: {PROGRAMME}
name: Uji layanan tertutup 2026
year: 2026
funder: APBD_PROVINSI
jurisdiction: "12"
coverage_start: 2026-01-01
budget_cap: 100000000
allowed_deciles: [1, 2]
decree_kind: SK_GUBERNUR
requires_decree: false
quotas:
  - {{regency: "{SAMOSIR}", sector: non_sawit, seats: 5}}
"""
AUTH_REQUIRED_MESSAGE = "AUTH_REQUIRED: Masuk dengan kunci API yang sah untuk membuka data ini."


def refused_start(place: Place, service: str, env: dict[str, str]) -> str:
    """Start `service` and expect it to exit 2 before serving; its log."""
    proc = place.process(service, env)
    proc.start()
    assert exit_code(proc) == 2, proc.tail()
    log = proc.log_path.read_text()
    assert "Uvicorn running" not in log and "ready on schema" not in log, log
    return log


# --- a start outside development mode -----------------------------------------------------------


def test_a_service_with_nothing_configured_refuses_to_start(place: Place) -> None:
    log = refused_start(place, "dashboard", place.bare_env())
    assert "Layanan dashboard tidak dijalankan: konfigurasi produksi belum lengkap" in log
    for setting in (
        "LINDUNG_API_KEYS",
        "LINDUNG_NIK_PEPPER",
        "LINDUNG_SESSION_SECRET",
        "LINDUNG_EVENT_KEYRING_FILE",
        "LINDUNG_EVENT_SIGNING_KEY_FILE dan LINDUNG_EVENT_SIGNING_KEY_ID",
    ):
        assert f"Setel {setting}." in log, setting
    assert "LINDUNG_DEV_MODE=true" in log


def test_the_default_pepper_alone_is_refused(place: Place) -> None:
    env = place.closed_env("registry")
    del env["LINDUNG_NIK_PEPPER"]
    log = refused_start(place, "registry", env)
    assert "Pepper NIK masih nilai bawaan yang diketahui umum" in log and "Setel LINDUNG_NIK_PEPPER." in log
    assert "LINDUNG_API_KEYS" not in log and "LINDUNG_EVENT_KEYRING_FILE" not in log


async def test_everything_configured_starts_closed(closed_stack: ClosedStack) -> None:
    for proc in (closed_stack.registry, closed_stack.allocation):
        assert "DEVELOPMENT MODE" not in proc.log_path.read_text()
    async with httpx.AsyncClient(base_url=closed_stack.registry.url) as http:
        assert (await http.get("/programmes")).status_code == 401
        assert (await http.get("/programmes", headers=bearer("admin"))).status_code == 200


async def test_dev_mode_starts_open_and_says_so(place: Place, started: list[ServiceProcess]) -> None:
    proc = place.process("claims", {**place.bare_env(), "LINDUNG_DEV_MODE": "true"})
    started.append(proc)
    proc.start()
    await answering(proc, "/health")
    async with httpx.AsyncClient(base_url=proc.url) as http:
        # No keys: the caller is the development province admin.
        assert (await http.get("/claims", params={"programme": PROGRAMME})).status_code == 200
    warnings = [line for line in proc.log_path.read_text().splitlines() if "DEVELOPMENT MODE" in line]
    assert len(warnings) == 1, warnings
    assert "claims runs open" in warnings[0] and "LINDUNG_API_KEYS" in warnings[0]


# --- the CLI sends LINDUNG_API_KEY --------------------------------------------------------------


def lindung(place: Place, *args: str, api_key: str | None) -> subprocess.CompletedProcess[str]:
    env = place.bare_env() | {"COLUMNS": "200"} | ({"LINDUNG_API_KEY": api_key} if api_key else {})
    return subprocess.run(
        [sys.executable, "-m", "lindung_cli.main", *args],
        env=env,
        cwd=place.root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_sends_its_key_and_says_why_it_was_refused(closed_stack: ClosedStack) -> None:
    place, url = closed_stack.place, closed_stack.registry.url
    done = lindung(place, "reference", "history", "p3ke", "--url", url, api_key=KEYS["admin"])
    assert done.returncode == 0, done.stdout + done.stderr
    assert "P3KE versions" in done.stdout

    keyless = lindung(place, "reference", "history", "p3ke", "--url", url, api_key=None)
    assert keyless.returncode == 2, keyless.stdout + keyless.stderr
    assert AUTH_REQUIRED_MESSAGE in keyless.stderr and "Setel LINDUNG_API_KEY" in keyless.stderr
    assert "Traceback" not in keyless.stderr

    wrong_role = lindung(
        place, "programmes", "list", "--url", closed_stack.allocation.url, api_key=KEYS["bpjs"]
    )
    assert wrong_role.returncode == 2, wrong_role.stdout + wrong_role.stderr
    assert "FORBIDDEN: Peran bpjs tidak berhak" in wrong_role.stderr


# --- the simulator's control panel --------------------------------------------------------------


async def test_control_is_absent_outside_dev_mode(place: Place, started: list[ServiceProcess]) -> None:
    proc = place.process("bpjs_simulator", place.closed_env("bpjs_simulator"), "simulator-closed")
    started.append(proc)
    proc.start()
    await answering(proc, "/health")
    async with httpx.AsyncClient(base_url=proc.url, headers=bearer("bpjs")) as http:
        assert (await http.get("/participants/count")).status_code == 200
        for method, path in (("GET", "/control"), ("POST", "/control/outage"), ("POST", "/control/claims")):
            reply = await http.request(method, path, params={"seconds": 0}, json={})
            assert reply.status_code == 404, (path, reply.text)


async def test_control_answers_bpjs_not_the_province_admin(
    place: Place, started: list[ServiceProcess]
) -> None:
    env = {**place.closed_env("bpjs_simulator"), "LINDUNG_DEV_MODE": "true"}
    proc = place.process("bpjs_simulator", env, "simulator-dev")
    started.append(proc)
    proc.start()
    await answering(proc, "/health")
    async with httpx.AsyncClient(base_url=proc.url) as http:
        admin = await http.post("/control/outage", params={"seconds": 30}, headers=bearer("admin"))
        assert admin.status_code == 403, admin.text
        assert admin.json()["detail"] == {
            "code": "FORBIDDEN",
            "message": "Panel kendali simulator hanya untuk peran bpjs.",
        }
        claim = {"kpj": "KPJ-1", "programme": "JKK", "benefit_kind": "MEDICAL", "incident_date": "2026-06-01"}
        pushed = await http.post("/control/claims", json={**claim, "amount": 1}, headers=bearer("admin"))
        assert pushed.status_code == 403
        state = await http.get("/control", headers=bearer("bpjs"))
        assert state.json()["outage"] is False  # the admin's outage did not happen
        bpjs = await http.post("/control/outage", params={"seconds": 0}, headers=bearer("bpjs"))
        assert bpjs.status_code == 200 and bpjs.json()["outage"] is False


# --- who withdrew -------------------------------------------------------------------------------


def worker(serial: int) -> dict[str, Any]:
    birth = date(1985, 3, serial)
    return {
        "programme_code": PROGRAMME,
        "nik": compose_nik(SAMOSIR, 3, birth, "P", serial),
        "full_name": f"Pekerja Uji {serial}",
        "birth_date": birth.isoformat(),
        "sex": "P",
        "occupation": "petani",
        "regency_code": SAMOSIR,
        "kecamatan": "Pangururan",
        "desa": "Lumban Suhi Suhi",
        "sector": "non_sawit",
    }


async def nominated(http: httpx.AsyncClient, body: dict[str, Any]) -> str:
    reply = await http.post("/nominations", json=body, headers=bearer("officer"))
    assert reply.status_code == 201 and reply.json()["status"] == "validated", reply.text
    return str(reply.json()["nomination_id"])


async def test_a_withdrawal_records_who_withdrew(closed_stack: ClosedStack) -> None:
    first, second = worker(11), worker(12)
    async with (
        httpx.AsyncClient(base_url=closed_stack.allocation.url, headers=bearer("admin")) as allocation,
        httpx.AsyncClient(base_url=closed_stack.registry.url) as registry,
    ):
        defined = await allocation.post(
            "/programmes", content=PROGRAMME_YAML, headers={"content-type": "application/yaml"}
        )
        assert defined.status_code == 201, defined.text

        async def registry_knows() -> bool:
            listed = await registry.get("/programmes", headers=bearer("admin"))
            return PROGRAMME in {p["programme_code"] for p in listed.json()}

        await eventually(registry_knows, timeout_s=60)
        extract = "nik,desil\n" + "".join(f"{w['nik']},1\n" for w in (first, second))
        imported = await registry.post("/reference/p3ke", content=extract.encode(), headers=bearer("admin"))
        assert imported.status_code == 201, imported.text
        nomination = await nominated(registry, first)

        withdrawal = await registry.post(
            f"/nominations/{nomination}/withdrawal",
            json={"reason": "moved", "note": "pindah ke Medan"},
            headers={**bearer("officer"), "X-Lindung-Officer": "Rina Sitohang"},
        )
        assert withdrawal.status_code == 201, withdrawal.text
        history = (await registry.get(f"/nominations/{nomination}/history", headers=bearer("admin"))).json()
        assert history[-1]["event_type"] == "NominationWithdrawn"
        assert history[-1]["withdrawn_by"] == f"{OFFICER_NAME} (Rina Sitohang)"
        assert history[-1]["reason"] == "moved"

    # What allocation reads on the topic: v2, with who withdrew.
    records = await read_topic(closed_stack.place.bootstrap, topics.REGISTRY, expected=1, timeout_s=30)
    withdrawn = [
        envelope
        for envelope in (Envelope.from_bytes(r.value) for r in records)
        if envelope.event_type == "NominationWithdrawn" and envelope.payload["nomination_id"] == nomination
    ]
    assert [(e.schema_version, e.payload["withdrawn_by"]) for e in withdrawn] == [
        (2, f"{OFFICER_NAME} (Rina Sitohang)")
    ]


async def test_an_old_withdrawal_reads_as_withdrawn_by_nobody_recorded(closed_stack: ClosedStack) -> None:
    """Service alone: a v1 event as the registry stored it before v2, read through its API."""
    body = worker(13)
    async with httpx.AsyncClient(base_url=closed_stack.registry.url, headers=bearer("admin")) as registry:
        extract = f"nik,desil\n{body['nik']},1\n"
        assert (await registry.post("/reference/p3ke", content=extract.encode())).status_code == 201
        nomination = await nominated(registry, body)
        worker_id = (await registry.get(f"/nominations/{nomination}")).json()["worker_id"]
        engine = make_engine(closed_stack.place.database_url)
        store_of_registry = PostgresStore(engine, registry_tables, "registry", project=project_batch)
        try:
            async with store_of_registry.transaction() as tx:
                stream = stream_of(worker_id)
                await append(
                    tx,
                    stream,
                    [
                        WithdrawnV1(
                            worker_id=worker_id,
                            nomination_id=nomination,
                            programme_code=PROGRAMME,
                            regency_code=SAMOSIR,
                            reason="declined",
                        )
                    ],
                    after=(await tx.load([stream]))[stream].version,
                )
            async with engine.begin() as conn:
                stored = await conn.execute(
                    select(func.max(registry_tables.events.c.schema_version)).where(
                        registry_tables.events.c.event_type == "NominationWithdrawn",
                        registry_tables.events.c.aggregate_id == stream_of(worker_id),
                    )
                )
                assert stored.scalar_one() == 1
        finally:
            await engine.dispose()
        history = (await registry.get(f"/nominations/{nomination}/history")).json()
        assert history[-1]["event_type"] == "NominationWithdrawn"
        assert history[-1]["withdrawn_by"] == "tidak tercatat" and history[-1]["reason"] == "declined"
        assert (await registry.get(f"/nominations/{nomination}")).json()["status"] == "withdrawn"
