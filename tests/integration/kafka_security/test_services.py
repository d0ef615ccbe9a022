"""The six services as processes (as `lindung up` and docker-compose run them), each connecting as
its own principal with the LINDUNG_KAFKA_* settings; a nomination posted over the registry's HTTP
ends enrolled (BPJS simulator answering as `bpjs_simulator`), and a regency system publishes on the
inbound topic and reads its reply as `regency-12.17`. Any ACL a service lacks stops it here: its
consumer cannot join its group (/ready stays 503) or its relay cannot publish (no enrollment)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from libs.events import topics
from libs.events.contracts.registry import NominationSubmitted
from libs.regions import kecamatan_of_nik
from libs.regions.places import desa_of_kecamatan
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS, upgrade
from lindung_cli.demo import EXAMPLE_WORKER, p3ke_extract
from lindung_cli.embedded import free_port
from lindung_cli.up import load_demo
from tests.infra import Infra, Servers, fresh_database_url
from tests.integration.faults.cluster import Cluster, ServiceProcess
from tests.integration.kafka_security.conftest import SERVICES, SecuredCluster
from tests.running import eventually
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce


@pytest.fixture(scope="module")
async def services(
    cluster: SecuredCluster, servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    infra = Infra(servers.server_url, cluster.bootstrap, servers.kind, cluster.broker)
    url = await asyncio.to_thread(fresh_database_url, infra, "lindung_ksec")
    for service in SERVICES_WITH_SCHEMAS:
        await asyncio.to_thread(upgrade, service, url)
    log_dir: Path = tmp_path_factory.mktemp("secured-services")
    # The example worker's NIK must be known to the simulator's Dukcapil.
    stack = Cluster(url, cluster.bootstrap, log_dir, {"LINDUNG_BPJS_NIK_NOT_FOUND_PER_MILLION": "0"})
    stack.processes["dashboard"] = ServiceProcess(
        "dashboard", free_port(), log_dir / "dashboard.log", dict(stack.processes["registry"].env)
    )
    assert set(stack.processes) == set(SERVICES)
    for name, process in stack.processes.items():
        process.env.update(cluster.env_of(name))
    try:
        for process in stack.processes.values():
            process.start()
        # Six interpreters starting at once on two shared cores: a generous bound.
        await asyncio.gather(*(stack.wait_ready(name, timeout_s=240) for name in stack.processes))
        # The demo programme (allocation) and the demo P3KE extract (registry), as `lindung up` loads them.
        await asyncio.to_thread(load_demo, cast(Any, None), stack.url)
        yield stack
    finally:
        stack.stop_all()


async def test_a_nomination_posted_over_http_is_enrolled_with_every_service_as_its_own_principal(
    services: Cluster,
) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        answer = await http.post(f"{services.url('registry')}/nominations", json=EXAMPLE_WORKER)
        assert answer.status_code == 201, answer.text
        worker_id = answer.json()["worker_id"]

        async def enrolled() -> dict[str, Any] | None:
            services.check_alive()
            got = await http.get(f"{services.url('enrollment')}/enrollments/{worker_id}")
            rows = got.json() if got.status_code == 200 else []
            return rows[0] if rows and rows[0]["status"] == "enrolled" else None

        enrollment = await eventually(enrolled, timeout_s=60)
    assert enrollment["kpj"].startswith("KPJ")


def p3ke_worker(regency_code: str) -> dict[str, Any]:
    """A worker of the demo P3KE extract `lindung up` loads (so that the registry validates it),
    other than the example worker, with the birth date, sex and kecamatan its NIK says."""
    prefix = regency_code.replace(".", "")
    for line in p3ke_extract(seed=2026, workers=2000).splitlines()[2:]:
        nik = line.split(",")[0]
        kecamatan = kecamatan_of_nik(nik)
        if not nik.startswith(prefix) or kecamatan is None:
            continue
        day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
        return {
            **EXAMPLE_WORKER,
            "nik": nik,
            "full_name": "Sinta Sinaga",
            "birth_date": date(1900 + year if year >= 62 else 2000 + year, month, day % 40),
            "sex": "P" if day > 40 else "L",
            "kecamatan": kecamatan.name,
            "desa": desa_of_kecamatan(kecamatan.code)[0].name,
        }
    raise AssertionError(f"no worker of {regency_code} in the demo extract")


async def test_a_regency_system_publishes_a_nomination_and_reads_its_reply_as_its_principal(
    cluster: SecuredCluster, services: Cluster
) -> None:
    samosir = cluster.connection("regency-12.17")
    source_ref = f"SAMOSIR-{uuid.uuid4().hex[:8]}"
    nomination = NominationSubmitted(**p3ke_worker("12.17"), source_ref=source_ref)
    sent = envelope_of(nomination, "regency-12.17", source_ref)
    await produce(
        samosir.bootstrap, topics.NOMINATIONS_INBOUND, [(source_ref, sent)], **samosir.aiokafka_options()
    )

    replies = AIOKafkaConsumer(
        topics.NOMINATION_REPLIES,
        **samosir.aiokafka_options(),
        group_id="regency-12.17-replies",
        auto_offset_reset="earliest",
    )
    await replies.start()
    try:

        async def my_reply() -> dict[str, Any] | None:
            services.check_alive()
            for records in (await replies.getmany(timeout_ms=300)).values():
                for record in records:
                    reply = json.loads(record.value or b"{}")
                    if reply.get("payload", {}).get("source_ref") == source_ref:
                        return cast(dict[str, Any], reply)
            return None

        reply = await eventually(my_reply, timeout_s=60)
    finally:
        await replies.stop()
    assert reply["producer"] == "registry"
    assert reply["payload"]["request_event_id"] == str(sent.event_id)
    assert reply["event_type"] == "NominationAccepted", reply["payload"].get("reasons")
