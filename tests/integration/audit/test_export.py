"""Export of a regency's year: JSON Lines + manifest, checked with sha256sum and jq only."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from libs.audit.history import WIB
from tests.integration.audit.conftest import SMALL, AuditRun
from tests.integration.audit.support import lindung

pytestmark = pytest.mark.integration
REGENCY = "12.78"  # the small programme's regency (Gunungsitoli)

needs_tools = pytest.mark.skipif(
    not (shutil.which("jq") and shutil.which("sha256sum") and shutil.which("bash")),
    reason="the recipe needs jq, sha256sum and bash",
)


def _lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
async def exported(audit_run: AuditRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "gunungsitoli"
    year = datetime.now(UTC).astimezone(WIB).year
    # Unmasked (explicit since issue 15): the documented recipe recomputes each line's hash.
    result = await lindung(
        "audit", "export", "--regency", REGENCY, "--year", str(year), "--out", str(out), "--unmasked"
    )
    assert result.exit_code == 0, result.output
    return out


def test_the_manifest_counts_what_the_files_hold(exported: Path) -> None:
    manifest = json.loads((exported / "manifest.json").read_text())
    assert manifest["format"] == "lindung-audit-export/1"
    assert manifest["parameters"]["regency_code"] == REGENCY
    assert manifest["software"]["name"] == "lindung" and manifest["software"]["version"]
    total = 0
    for entry in manifest["files"]:
        lines = _lines(exported / entry["name"])
        counts = Counter(line["envelope"]["event_type"] for line in lines)
        assert dict(counts) == manifest["counts"][entry["service"]] and len(lines) == entry["events"]
        total += len(lines)
    assert total == manifest["total_events"] > 0


def test_only_the_regency_is_exported_with_what_concerns_its_workers(exported: Path) -> None:
    everything = [line for f in sorted(exported.glob("events-*.jsonl")) for line in _lines(f)]
    codes = {line["envelope"]["payload"].get("regency_code") for line in everything}
    assert codes <= {REGENCY, None}
    by_service = Counter(line["service"] for line in everything)
    assert by_service["registry"] > 0 and by_service["allocation"] > 0 and by_service["enrollment"] > 0
    assert by_service["bpjs_simulator"] > 0  # BPJS answers name no regency: found by worker
    defined = [line for line in everything if line["envelope"]["event_type"] == "ProgrammeDefined"]
    assert [d["envelope"]["payload"]["programme_code"] for d in defined] == [SMALL]  # by its stream


def recipe(name: str) -> str:
    """The shell block that follows `<!-- recipe: NAME -->` in docs/audit.md."""
    docs = (Path(__file__).resolve().parents[3] / "docs" / "audit.md").read_text(encoding="utf-8")
    found = re.search(rf"<!-- recipe: {name} -->\s*```sh\n(.*?)```", docs, re.S)
    assert found, f"recipe {name} not in docs/audit.md"
    return found.group(1)


def sh(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, capture_output=True, text=True)


@needs_tools
def test_the_documented_recipe_checks_the_export_with_sha256sum_and_jq(exported: Path) -> None:
    files = sh(recipe("files"), exported)
    assert files.returncode == 0, files.stdout + files.stderr
    manifest = json.loads((exported / "manifest.json").read_text())
    counts = sh(recipe("counts"), exported)
    assert counts.returncode == 0, counts.stderr
    listed = dict(reversed(line.split()) for line in counts.stdout.splitlines() if line.strip()[0].isdigit())
    assert {k: int(v) for k, v in listed.items()} == manifest["counts"]["registry"]
    lines = sh(recipe("lines"), exported)
    assert lines.returncode == 0, lines.stderr
    assert "MISMATCH" not in lines.stdout
    assert lines.stdout.strip().endswith(f"{manifest['total_events']} lines checked")


@needs_tools
def test_the_recipe_names_a_line_whose_envelope_was_changed(exported: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(exported, copy)
    for other in copy.glob("events-*.jsonl"):
        if other.name != "events-allocation.jsonl":
            other.unlink()  # the line check walks every file: keep it short
    path = copy / "events-allocation.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["envelope"]["payload"]["programme_code"] = "ELSEWHERE"
    lines[0] = json.dumps(first, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert sh(recipe("files"), copy).returncode != 0
    checked = sh(recipe("lines"), copy)
    stream, version = first["envelope"]["aggregate_id"], first["envelope"]["aggregate_version"]
    assert f"MISMATCH allocation {stream} v{version}" in checked.stdout


async def test_a_year_without_events_exports_empty_files(audit_run: AuditRun, tmp_path: Path) -> None:
    result = await lindung("audit", "export", "--regency", REGENCY, "--year", "2019", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["total_events"] == 0 and all(f["events"] == 0 for f in manifest["files"])
