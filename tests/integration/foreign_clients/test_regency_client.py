"""A regency system written with confluent-kafka (docs/integrators/regency_client.py, as published)
nominates on lindung.nominations.inbound.v1 and reads its replies; an operator's kcat lists the
topics and reads a reply. Outcomes are checked where the regency and the officers read them: the
replies topic and the registry's HTTP API."""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lindung_wire
import pytest
import regency_client

from tests.infra import Infra
from tests.integration.foreign_clients.conftest import Stack
from tests.running import eventually

pytestmark = pytest.mark.integration


@dataclass
class Submitted:
    nominations: dict[str, dict[str, Any]]  # by source_ref
    sent: dict[str, str]  # event_id by source_ref
    replies: dict[str, dict[str, Any]]  # reply envelope by source_ref
    accepted: list[str]
    mismatched: str


@pytest.fixture(scope="module")
async def submitted(stack: Stack) -> Submitted:
    run = uuid.uuid4().hex[:6].upper()
    accepted = [stack.worker(f"SMR-{run}-{n}") for n in (1, 2)]
    # The NIK says 17 August 1985; the form says the 18th: recorded, then refused by the rules.
    mismatched = stack.worker(f"SMR-{run}-3", birth_date="1985-08-18")
    await stack.in_p3ke(*accepted, mismatched)
    nominations = [*accepted, mismatched]
    system = regency_client.RegencySystem("12.17", stack.connection, stack.signer("regency-12.17"))
    sent = await asyncio.to_thread(system.submit, nominations)
    replies = await asyncio.to_thread(system.replies, sent, f"regency-12.17-replies-{run}", 60.0)
    return Submitted(
        {n["source_ref"]: n for n in nominations},
        sent,
        replies,
        [n["source_ref"] for n in accepted],
        mismatched["source_ref"],
    )


async def test_a_librdkafka_regency_system_gets_an_answer_to_each_nomination(
    stack: Stack, submitted: Submitted
) -> None:
    assert submitted.replies.keys() == submitted.sent.keys()
    for ref, reply in submitted.replies.items():
        # Every reply names the message it answers, as docs/registry.md says.
        assert reply["causation_id"] == submitted.sent[ref]
        assert reply["payload"]["request_event_id"] == submitted.sent[ref]
        assert reply["payload"]["source_ref"] == ref
        assert reply["payload"]["regency_system"] == "regency-12.17"
        assert reply["producer"] == "registry"
    for ref in submitted.accepted:
        reply = submitted.replies[ref]
        assert reply["event_type"] == "NominationAccepted", reply
        assert regency_client.outcome(reply)["status"] == "accepted"
    refused = submitted.replies[submitted.mismatched]
    assert refused["event_type"] == "NominationRejected", refused
    payload = refused["payload"]
    assert payload["status"] == "rejected"
    assert payload["nomination_id"]
    # The documented error shape: every reason with a stable code, an Indonesian message, details.
    assert [r["code"] for r in payload["reasons"]] == ["NIK_BIRTHDATE_MISMATCH"], payload["reasons"]
    reason = payload["reasons"][0]
    assert set(reason) == {"code", "message", "details"}
    assert "tanggal lahir" in reason["message"].lower()
    assert regency_client.outcome(refused)["reasons"] == [f"NIK_BIRTHDATE_MISMATCH: {reason['message']}"]

    # The officers see the same nominations, arrived over Kafka, in the registry.
    for ref, reply in submitted.replies.items():
        answer = await stack.registry.get("/nominations", params={"source_ref": ref})
        assert answer.status_code == 200, answer.text
        [row] = answer.json()["items"]
        assert row["channel"] == "kafka"
        assert row["nomination_id"] == reply["payload"]["nomination_id"]
        assert row["status"] == ("rejected" if ref == submitted.mismatched else "validated")


async def test_a_reply_read_again_by_the_same_group_is_not_delivered_twice(
    stack: Stack, submitted: Submitted
) -> None:
    """The client commits what it took: the same group reading again finds nothing more."""
    system = regency_client.RegencySystem("12.17", stack.connection, stack.signer("regency-12.17"))
    group = f"regency-12.17-again-{uuid.uuid4().hex[:6]}"
    first = await asyncio.to_thread(system.replies, submitted.sent, group, 60.0)
    assert first.keys() == submitted.sent.keys()
    one = {submitted.mismatched: submitted.sent[submitted.mismatched]}
    again = await asyncio.to_thread(system.replies, one, group, 2.0)
    assert again == {}


async def test_the_command_line_client_sends_a_file_and_prints_each_reply(
    stack: Stack, submitted: Submitted, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same source_ref sent again unchanged is not a second nomination: the earlier outcome
    is replied again, marked `repeated`."""
    file = tmp_path / "usulan.json"
    file.write_text(json.dumps([submitted.nominations[submitted.mismatched]]), encoding="utf-8")
    args = ["--bootstrap", stack.bootstrap, "--regency", "12.17", "--timeout", "60"]
    args += [*stack.key_arguments("regency-12.17"), str(file)]
    status = await asyncio.to_thread(regency_client.main, args)
    [line] = capsys.readouterr().out.splitlines()
    printed = json.loads(line)
    assert status == 1  # not every nomination was accepted
    first = submitted.replies[submitted.mismatched]["payload"]
    assert printed["source_ref"] == submitted.mismatched
    assert printed["status"] == "rejected"
    assert printed["repeated"] is True
    assert printed["nomination_id"] == first["nomination_id"]
    assert [r.split(":")[0] for r in printed["reasons"]] == ["NIK_BIRTHDATE_MISMATCH"]


def openssl_signature(key_file: str, signed: Path) -> str:
    """`openssl pkeyutl -sign -rawin` over a file (Ed25519 signs the message itself), base64."""
    done = subprocess.run(
        ["openssl", "pkeyutl", "-sign", "-inkey", key_file, "-rawin", "-in", str(signed)],
        capture_output=True,
        timeout=30,
        check=True,
    )
    return base64.b64encode(done.stdout).decode()


async def test_an_unsigned_nomination_is_parked_and_answered_by_its_key(stack: Stack) -> None:
    """The same client without its key: Lindung does not read what it cannot prove, and says so."""
    run = uuid.uuid4().hex[:6].upper()
    nomination = stack.worker(f"UNSIGNED-{run}")
    await stack.in_p3ke(nomination)
    system = regency_client.RegencySystem("12.17", stack.connection)
    sent = await asyncio.to_thread(system.submit, [nomination])
    replies = await asyncio.to_thread(system.replies, sent, f"regency-12.17-unsigned-{run}", 60.0)
    reply = replies[nomination["source_ref"]]
    assert reply["event_type"] == "NominationRejected"
    assert reply["payload"]["request_key"] == nomination["source_ref"]
    assert reply["payload"]["request_event_id"] is None  # the unproven envelope is not read
    assert [r["code"] for r in reply["payload"]["reasons"]] == ["SIGNATURE_MISSING"]
    listed = await stack.registry.get("/nominations", params={"source_ref": nomination["source_ref"]})
    assert listed.json()["items"] == []


def kcat(*args: str) -> str:
    done = subprocess.run(["kcat", *args], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_kcat_lists_the_topics_sends_a_nomination_and_reads_its_reply(
    infra: Infra, stack: Stack, tmp_path: Path
) -> None:
    """The operator's commands of docs/integrators/README.md: an envelope written to a file (by
    lindung_wire, as an integrator would by hand) sent with kcat, and the reply read with kcat."""
    if shutil.which("kcat") is None:
        pytest.skip("kcat is not installed (Debian package `kcat`; .ci/run installs it)")
    if infra.broker_kind != "kafka":
        pytest.skip("kcat (librdkafka) cannot talk to Tansu; this test needs the Apache Kafka broker")
    listed = json.loads(await asyncio.to_thread(kcat, "-b", infra.bootstrap, "-L", "-J"))
    names = {t["topic"] for t in listed["topics"]}
    assert {"lindung.nominations.inbound.v1", "lindung.nominations.replies.v1"} <= names

    ref = f"KCAT-{uuid.uuid4().hex[:6].upper()}"
    # Not in the P3KE extract: recorded and refused by the rules.
    nomination = lindung_wire.envelope(
        "NominationSubmitted", stack.worker(ref), producer="regency-12.17", aggregate_id=ref
    )
    file = tmp_path / "nomination.json"
    file.write_text(json.dumps(nomination), encoding="utf-8")
    # Signed with openssl over the file's bytes, exactly what kcat sends (README, "Signing").
    key = str(stack.keys / "regency-12.17.pem")
    signature = await asyncio.to_thread(openssl_signature, key, file)
    headers = ["event_type=NominationSubmitted", "schema_version=1", "producer=regency-12.17"]
    headers += ["lindung-key-id=regency-12.17.test", f"lindung-signature={signature}"]
    await asyncio.to_thread(
        kcat, "-b", infra.bootstrap, "-P", "-t", regency_client.INBOUND, "-k", ref,
        *(arg for h in headers for arg in ("-H", h)), str(file),
    )  # fmt: skip

    async def reply() -> dict[str, Any] | None:
        out = await asyncio.to_thread(
            kcat, "-b", infra.bootstrap, "-C", "-t", regency_client.REPLIES, "-o", "beginning", "-e", "-J"
        )
        records = [json.loads(line) for line in out.splitlines() if line.strip()]
        return next((r for r in records if r["key"] == ref), None)

    record = await eventually(reply, timeout_s=30)
    answer = json.loads(record["payload"])
    assert answer["event_type"] == "NominationRejected"
    assert answer["causation_id"] == nomination["event_id"]
    assert answer["payload"]["status"] == "rejected"
    assert [r["code"] for r in answer["payload"]["reasons"]] == ["NOT_IN_P3KE_OR_DTKS"]
    # kcat shows the headers as a flat list: name, value, name, value...
    shown = dict(zip(record["headers"][::2], record["headers"][1::2], strict=True))
    signature = {k: shown.pop(k) for k in ("lindung-key-id", "lindung-signature")}
    assert shown == {"event_type": "NominationRejected", "schema_version": "1", "producer": "registry"}
    assert signature["lindung-key-id"] == "registry.test"  # Lindung signs what it sends too
