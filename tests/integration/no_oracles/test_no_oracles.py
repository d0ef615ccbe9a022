"""Issue 15, points 5, 6 and 9 through the real path.

An officer of Samosir probing a NIK of Medan — one Lindung knows well (in P3KE, nominated by
Medan, seated, enrolled with a KPJ) — gets, by HTTP nomination, upload and coverage lookup, the
very answer (whole bodies compared, ids masked) as for a Medan NIK Lindung never heard of, and
none of Medan's data. Request bodies over the limit are refused 413 before they are read, an
XLSX zip bomb 422, by a registry process whose memory stays under 300 MB. A name written as a
spreadsheet formula is neutralised in the decree's annex CSV and in the (masked by default)
audit export, whose files are 0600 and hold no clear NIK, name, birth date or desa.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from libs.events import topics
from libs.events.contracts.registry import NominationSubmitted
from tests.integration.audit.support import lindung
from tests.integration.no_oracles.conftest import KEYS, PROGRAMME, SAMOSIR, Person, Stack, expect
from tests.running import read_matching
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce

pytestmark = pytest.mark.integration

WIB = timezone(timedelta(hours=7))
RSS_LIMIT = 300 * 1024 * 1024


def scrubbed(body: Any, *values: str) -> str:
    """`body` as sorted JSON with `values` (ids that differ by nature) replaced by a mark."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False)
    for value in values:
        if value:
            text = text.replace(value, "<id>")
    return text


def secrets_of(stack: Stack) -> list[str]:
    """What Samosir must never learn about Medan's worker."""
    return [stack.kpj, stack.known.full_name, "desil", "P3KE", "DTKS", "APBD", "Provinsi", "KPJ"]


def learns_nothing(stack: Stack, *bodies: str) -> None:
    for body in bodies:
        for secret in secrets_of(stack):
            assert secret not in body, (secret, body)


# --- probes ---------------------------------------------------------------------------------------


async def test_a_nomination_probe_answers_as_for_a_nik_nobody_knows(stack: Stack) -> None:
    answers = []
    for person in (stack.known, stack.unknown):
        answer = await expect(
            await stack.call(
                "registry", "officer", "POST", "/nominations", json=person.form(regency=SAMOSIR)
            ),
            201,
        )
        answers.append(scrubbed(answer, answer["nomination_id"], answer["worker_id"]))
        assert [r["code"] for r in answer["reasons"]] == ["NIK_REGENCY_MISMATCH"]
    known, unknown = answers
    assert known == unknown
    learns_nothing(stack, known)


def one_row_csv(person: Person) -> bytes:
    header = "NIK,Nama,Tanggal Lahir,Jenis Kelamin,Pekerjaan,Kecamatan,Desa,Sektor\n"
    row = f"{person.nik},Probe,{person.birth:%d-%m-%Y},L,petani,Pangururan,Lumban Suhi Suhi,non_sawit\n"
    return (header + row).encode()


async def test_an_upload_probe_answers_as_for_a_nik_nobody_knows(stack: Stack) -> None:
    answers = []
    for person in (stack.known, stack.unknown):
        reply = await stack.call(
            "registry",
            "officer",
            "POST",
            "/nominations/upload",
            params={"programme": PROGRAMME, "regency": SAMOSIR},
            files={"file": ("usulan.csv", one_row_csv(person), "text/csv")},
        )
        answer = await expect(reply, 200)
        (row,) = answer["results"]
        assert row["status"] == "rejected" and [r["code"] for r in row["reasons"]] == ["NIK_REGENCY_MISMATCH"]
        answers.append(scrubbed(answer, row["nomination_id"]))
    known, unknown = answers
    assert known == unknown
    learns_nothing(stack, known)


async def test_a_coverage_probe_answers_as_for_a_nik_nobody_knows(stack: Stack) -> None:
    on = "2026-06-15"
    # The admin's answer shows what the officer is probing for: an enrolled worker with a KPJ.
    told_admin = await expect(
        await stack.call("enrollment", "admin", "POST", "/coverage", json={"nik": stack.known.nik, "on": on}),
        200,
    )
    assert told_admin["programmes"] and told_admin["kpj"] == stack.kpj
    replies = []
    for person in (stack.known, stack.unknown):
        reply = await stack.call(
            "enrollment", "officer", "POST", "/coverage", json={"nik": person.nik, "on": on}
        )
        replies.append((reply.status_code, scrubbed(reply.json(), person.nik, person.worker_id)))
        by_id = await stack.call(
            "enrollment", "officer", "GET", f"/workers/{person.worker_id}/coverage", params={"on": on}
        )
        replies.append((by_id.status_code, scrubbed(by_id.json(), person.worker_id)))
        hidden = await stack.call("enrollment", "officer", "GET", f"/enrollments/{person.worker_id}")
        replies.append((hidden.status_code, scrubbed(hidden.json(), person.worker_id)))
    known, unknown = replies[:3], replies[3:]
    assert known == unknown
    assert [status for status, _ in known] == [200, 200, 404]
    assert json.loads(known[0][1])["reason"] == "NOT_ENROLLED"
    learns_nothing(stack, *(body for _, body in known))
    in_url = await stack.call(
        "enrollment", "officer", "GET", f"/coverage/{stack.known.nik}", params={"on": on}
    )
    assert in_url.status_code == 405 and in_url.json()["detail"]["code"] == "NIK_NOT_IN_URL"


async def test_an_inbound_topic_probe_answers_as_for_a_nik_nobody_knows(stack: Stack) -> None:
    """Samosir's regency system submits both NIKs on the inbound topic: the replies agree."""
    refs = {}
    sent = []
    for person in (stack.known, stack.unknown):
        ref = f"probe-{uuid.uuid4().hex[:8]}"
        refs[ref] = person
        event = NominationSubmitted(**person.form(regency=SAMOSIR), source_ref=ref)
        env = envelope_of(event, f"regency-{SAMOSIR}", f"simpeg-samosir-{ref}")
        sent.append((ref.encode(), env.to_bytes()))
    await produce(stack.bootstrap, topics.NOMINATIONS_INBOUND, sent)
    replies = await read_matching(
        stack.bootstrap,
        topics.NOMINATION_REPLIES,
        lambda r: r.key and r.key.decode() in refs,
        2,
        timeout_s=30,
    )
    assert len(replies) == 2
    bodies = {}
    for record in replies:
        reply = json.loads(record.value)
        payload = reply["payload"]
        assert reply["event_type"] == "NominationRejected"
        assert [r["code"] for r in payload["reasons"]] == ["NIK_REGENCY_MISMATCH"]
        person = refs[payload["source_ref"]]
        ids = (payload["source_ref"], payload["request_event_id"], payload["nomination_id"], person.worker_id)
        bodies[person.nik] = scrubbed(payload, *ids)
    assert bodies[stack.known.nik] == bodies[stack.unknown.nik]
    learns_nothing(stack, bodies[stack.known.nik])


# --- exports --------------------------------------------------------------------------------------


async def test_a_formula_name_is_neutralised_in_the_annex_csv(stack: Stack) -> None:
    reply = await stack.call(
        "allocation", "admin", "GET", f"/programmes/{PROGRAMME}/decrees/{stack.decree_version}/annex.csv"
    )
    assert reply.status_code == 200, reply.text
    rows = list(csv.reader(io.StringIO(reply.text)))
    names = [cell for row in rows for cell in row if "HYPERLINK" in cell]
    assert names == ["'" + stack.formula.full_name]


def _files(directory: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in directory.iterdir()}


async def test_the_audit_export_is_masked_by_default_and_unmasked_only_when_asked(
    stack: Stack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    year = str(datetime.now(UTC).astimezone(WIB).year)
    masked_dir = tmp_path / "masked"
    result = await lindung("audit", "export", "--regency", SAMOSIR, "--year", year, "--out", str(masked_dir))
    assert result.exit_code == 0, result.output
    files = _files(masked_dir)
    assert {"manifest.json", "SHA256SUMS", "events-registry.jsonl"} <= set(files)
    for path in masked_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    everything = "\n".join(files.values())
    person = stack.formula
    for clear in (person.nik, "HYPERLINK", person.birth.isoformat(), "Lumban Suhi Suhi", "Pangururan"):
        assert clear not in everything, clear
    assert json.dumps("'=***") in everything  # the formula name: masked, and neutralised
    assert json.dumps(person.birth.isoformat()[:4]) in everything  # the birth year is kept
    manifest = json.loads(files["manifest.json"])
    assert "unmasked" not in manifest and "masked" in manifest["personal_data"]

    clear_dir = tmp_path / "clear"
    with caplog.at_level("WARNING", logger="libs.audit.export"):
        result = await lindung(
            "audit", "export", "--regency", SAMOSIR, "--year", year, "--out", str(clear_dir), "--unmasked"
        )
    assert result.exit_code == 0, result.output
    manifest = json.loads((clear_dir / "manifest.json").read_text())
    assert manifest["unmasked"]["by"] and manifest["unmasked"]["regency_code"] == SAMOSIR
    assert any("UNMASKED audit export" in r.getMessage() for r in caplog.records)
    assert person.nik in (clear_dir / "events-registry.jsonl").read_text()
    for path in clear_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


# --- input limits, on a registry process of its own -------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PeakRss:
    """The largest resident set size of a process, sampled in a thread while it runs."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except psutil.Error:
                return
            self._stop.wait(0.01)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def registry_process(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """`python -m services.registry` on the package's database and broker (the test's environment)."""
    port = free_port()
    log = (tmp_path / "registry.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.registry"],
        env={**os.environ, "LINDUNG_HTTP_PORT": str(port), "PYTHONUNBUFFERED": "1"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
        log.close()


async def wait_ready(url: str, tmp_path: Path) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(300):
            try:
                if (await http.get(f"{url}/health")).status_code < 500:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(
        "registry process did not answer: " + (tmp_path / "registry.log").read_text()[-2000:]
    )


async def raw_answer(reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    status = int(head.split()[1])
    length = next(
        int(line.split(":")[1]) for line in head.split("\r\n") if line.lower().startswith("content-length")
    )
    return status, json.loads(await reader.readexactly(length))


def upload_head(port: int, extra: str) -> bytes:
    return (
        f"POST /nominations/upload?programme={PROGRAMME}&regency={SAMOSIR} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {KEYS['officer']}\r\n"
        f"Content-Type: multipart/form-data; boundary=b\r\n{extra}\r\n"
    ).encode()


def zip_bomb() -> bytes:
    """An XLSX-shaped zip of about 5 MB whose sheet inflates to 1.1 GB."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b"0" * (1 << 20)
            for _ in range(1100):
                sheet.write(block)
    return buf.getvalue()


async def test_oversized_bodies_and_a_zip_bomb_are_refused_in_little_memory(
    stack: Stack, tmp_path: Path
) -> None:
    bomb = await asyncio.to_thread(zip_bomb)
    with registry_process(tmp_path) as (url, pid):
        await wait_ready(url, tmp_path)
        port = int(url.rsplit(":", 1)[1])
        with PeakRss(pid) as rss:
            # 1 GB declared: answered from the headers, not one byte of the body sent.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(upload_head(port, "Content-Length: 1000000000\r\n"))
            await writer.drain()
            status, body = await asyncio.wait_for(raw_answer(reader), 60)
            writer.close()
            assert status == 413 and body["detail"]["code"] == "BODY_TOO_LARGE", body

            # No Content-Length (chunked): refused once 20 MB have streamed in, not at the end.
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(upload_head(port, "Transfer-Encoding: chunked\r\n"))
            part = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            answer = asyncio.ensure_future(raw_answer(reader))
            sent = 0
            chunk = b"x" * (1 << 20)
            while not answer.done() and sent < 1000:
                try:
                    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    await writer.drain()
                except ConnectionError:
                    break
                sent += 1
            status, body = await asyncio.wait_for(answer, 60)
            writer.close()
            assert status == 413 and body["detail"]["code"] == "BODY_TOO_LARGE", body
            assert sent < 100  # megabytes sent before the answer: far from the gigabyte on offer

            # The zip bomb: a few MB on the wire, refused from its zip directory.
            async with httpx.AsyncClient(
                timeout=60, headers={"Authorization": f"Bearer {KEYS['officer']}"}
            ) as http:
                reply = await http.post(
                    f"{url}/nominations/upload",
                    params={"programme": PROGRAMME, "regency": SAMOSIR},
                    files={
                        "file": (
                            "usulan.xlsx",
                            bomb,
                            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        )
                    },
                )
            assert reply.status_code == 422, reply.text
            assert reply.json()["detail"]["code"] == "UPLOAD_TOO_LARGE_UNCOMPRESSED"
        print(f"registry process peak RSS during the refusals: {rss.peak / 2**20:.0f} MiB")
        assert 0 < rss.peak < RSS_LIMIT, f"registry peak RSS {rss.peak / 2**20:.0f} MiB"
