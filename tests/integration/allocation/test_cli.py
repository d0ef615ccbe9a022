"""`lindung programmes` and `lindung decrees` against a running allocation service over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from pypdf import PdfReader
from typer.testing import CliRunner

from libs.runtime.service import create_app
from lindung_cli.embedded import free_port
from lindung_cli.main import app as cli
from tests.infra import Infra
from tests.integration.allocation.support import (
    EXAMPLES,
    People,
    Service,
    one_instance,
    programme_yaml,
    validated,
)

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6].upper()


@pytest.fixture(scope="module")
async def served(infra: Infra) -> AsyncIterator[tuple[Service, str]]:
    async with one_instance(infra) as service:
        app = create_app(service.rt.definition)
        app.state.runtime = service.rt  # the routes over the running instance (its lifespan runs once)
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
        )
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        try:
            yield service, f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            await task


async def lindung(*args: str) -> str:
    result = await asyncio.to_thread(CliRunner().invoke, cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


async def test_define_and_show_a_programme(served: tuple[Service, str]) -> None:
    _, url = served
    defined = await lindung("programmes", "define", str(EXAMPLES / "sumut-2024.yaml"), "--url", url)
    assert "SUMUT-2024" in defined and "Rp16.000.000" in defined and "9.920" in defined
    assert "BUDGET_SHORTFALL" in defined
    again = await lindung("programmes", "define", str(EXAMPLES / "sumut-2024.yaml"), "--url", url)
    assert "sudah ada" in again
    shown = await lindung("programmes", "show", "SUMUT-2024", "--url", url)
    assert "12.78" in shown and "Rp2.000.000.000" in shown


async def test_refusals_exit_non_zero_with_the_code(served: tuple[Service, str]) -> None:
    _, url = served
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["programmes", "show", "NO-SUCH", "--url", url])
    assert result.exit_code == 1 and "PROGRAMME_UNKNOWN" in result.output


async def test_change_seats_issue_a_decree_and_export_its_annex(
    served: tuple[Service, str], tmp_path: Path
) -> None:
    service, url = served
    code = f"CLI-{RUN}"
    cost = 16_800 * 12
    source = tmp_path / "programme.yaml"
    source.write_text(programme_yaml(code, {("12.17", "non_sawit"): 2}, 10 * cost))
    await lindung("programmes", "define", str(source), "--url", url)
    people = People(seed=9)
    workers = [people.worker("12.17", "non_sawit", 1) for _ in range(3)]
    for w in workers:
        await service.feed([validated(w, code)])

    changed = await lindung(
        "programmes", "set-seats", code, "12.17", "non_sawit", "3", "--note", "Surat 12", "--url", url
    )
    assert "QuotaChanged" in changed and "Naik dari daftar tunggu: 1 pekerja" in changed
    issued = await lindung(
        "decrees",
        "issue",
        code,
        "--number",
        f"188.44/5/{RUN}",
        "--date",
        "2026-03-01",
        "--signer",
        "Gubernur Sumatera Utara",
        "--url",
        url,
    )
    assert "3 pekerja" in issued and "Rp604.800" in issued
    listed = await lindung("decrees", "list", code, "--url", url)
    assert f"188.44/5/{RUN}" in listed

    pdf, csv_file = tmp_path / "lampiran.pdf", tmp_path / "lampiran.csv"
    await lindung("decrees", "annex", code, "--out", str(pdf), "--url", url)
    await lindung(
        "decrees", "annex", code, "--format", "csv", "--version", "1", "--out", str(csv_file), "--url", url
    )
    text = "\n".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Jumlah pekerja: 3" in text and "Jumlah biaya: Rp604.800" in text
    assert csv_file.read_text().count("\npekerja,") == 3
    assert all(w.nik not in text and w.nik not in csv_file.read_text() for w in workers)
