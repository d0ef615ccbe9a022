"""BPJS's gateway written with confluent-kafka (docs/integrators/bpjs_client.py, as published) answers
enrollment's registration requests; no simulator runs. Workers come in the way they do in
production (a regency system's nominations, allocation seats them) and the outcome is read where
officers read it: enrollment's HTTP API."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import Counter
from typing import Any

import bpjs_client
import pytest
import regency_client

from tests.integration.foreign_clients.conftest import Stack
from tests.running import eventually

pytestmark = pytest.mark.integration


async def test_a_librdkafka_bpjs_gateway_registers_one_worker_and_refuses_another(stack: Stack) -> None:
    run = uuid.uuid4().hex[:6].upper()
    known, unknown = stack.worker(f"BPJS-{run}-1"), stack.worker(f"BPJS-{run}-2")
    await stack.in_p3ke(known, unknown)
    system = regency_client.RegencySystem("12.17", stack.connection, stack.signer("regency-12.17"))
    sent = await asyncio.to_thread(system.submit, [known, unknown])
    replies = await asyncio.to_thread(system.replies, sent, f"regency-12.17-{run}", 60.0)
    assert {r["event_type"] for r in replies.values()} == {"NominationAccepted"}, replies
    worker = {ref: r["payload"]["worker_id"] for ref, r in replies.items()}

    # Dukcapil is down the first time the known worker is looked up (a retryable refusal: Lindung
    # re-sends the request as attempt 2), and never knows the other NIK (a final refusal).
    lookups: Counter[str] = Counter()

    def dukcapil(identity: dict[str, Any]) -> bool | None:
        lookups[identity["nik"]] += 1
        if identity["nik"] == unknown["nik"]:
            return False
        return None if identity["nik"] == known["nik"] and lookups[known["nik"]] == 1 else True

    gateway = bpjs_client.BpjsGateway(
        stack.connection, group_id=f"bpjs-{run}", dukcapil=dukcapil, signer=stack.signer("bpjs")
    )
    stop = threading.Event()
    serving = asyncio.create_task(asyncio.to_thread(gateway.serve, stop))

    async def registration(ref: str, status: str) -> dict[str, Any] | None:
        if serving.done():  # the gateway stopped on an error: raise it instead of waiting
            serving.result()
        answer = await stack.enrollment.get(f"/enrollments/{worker[ref]}")
        if answer.status_code == 404:
            return None
        [row] = answer.json()
        return row if row["status"] == status else None

    try:
        enrolled = await eventually(lambda: registration(known["source_ref"], "enrolled"), timeout_s=60)
        failed = await eventually(lambda: registration(unknown["source_ref"], "failed"), timeout_s=60)
    finally:
        stop.set()
        await serving

    answers = [a for a in gateway.answered if a["payload"]["worker_id"] == worker[known["source_ref"]]]
    assert [(a["event_type"], a["payload"]["attempt"]) for a in answers] == [
        ("RegistrationRejected", 1),
        ("RegistrationAccepted", 2),
    ]
    assert answers[0]["payload"]["retryable"] is True
    assert enrolled["kpj"] == answers[1]["payload"]["kpj"]
    assert enrolled["attempts"] == 2
    assert enrolled["programme_code"] == stack.programme
    assert failed["reason_code"] == "NIK_NOT_FOUND"
    assert failed["kpj"] is None
    # Each answer names the request it answers, as docs/bpjs-contract.md asks.
    for answer in gateway.answered:
        assert answer["producer"] == "bpjs"
        assert answer["causation_id"] is not None
