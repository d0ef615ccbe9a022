"""Export of the events concerning one regency in one fiscal year: JSON Lines plus a manifest,
readable without Lindung (format and a sha256sum/jq recipe in docs/audit.md).

Which events concern regency R (all service schemas, own events only):

1. an event whose payload has a non-null `regency_code` concerns R exactly when it is R;
2. an event without one concerns R when its payload's `worker_id` belongs to a worker named with
   R somewhere (in any year, any service) - e.g. the BPJS answer to R's worker's registration, a
   claim flag - or when its stream holds an event of R - e.g. the definition and the decrees of
   a programme that seats R's workers.

The year is the calendar (APBD fiscal) year of `occurred_at` in WIB (UTC+07:00). Inputs from
outside Lindung (BPJS pushes, regency systems) appear through the events they caused
(`causation_id`); inboxes are not exported.

Each line: ``{"service", "position", "recorded_at", "prev_hash", "hash", "envelope"}`` with
sorted keys, where `envelope` is the envelope in its canonical form, so that
``sha256(prev_hash + "\\n" + jq -cS .envelope) == hash`` for every line.

Masked by default (`mask_personal_data`; `lindung audit export --unmasked` is explicit, logged
and recorded in the manifest): every NIK, name, address and phone number in the payloads is
masked (libs.pii.mask_personal_fields), birth dates keep their year only, kecamatan and desa are
generalised to the regency, and every text that starts like a spreadsheet formula is neutralised
(libs.spreadsheet.safe_cell). The lines keep their hashes, which then prove the event's place in
the chain to whoever holds the unmasked store, but can no longer be recomputed from the masked
envelope itself. An unmasked export keeps the envelopes byte-exact, as the hash recipe needs.
Every file is written 0600 (owner only), in a directory created 0700.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.audit.chain import event_store_schemas
from libs.audit.history import year_bounds
from libs.audit.masking import MASKED_NOTE, masked_payload
from libs.audit.progress import NO_PROGRESS, Progress
from libs.events.envelope import Envelope
from libs.eventstore.store import row_to_envelope
from libs.eventstore.tables import eventstore_tables
from libs.privacy.envelopes import open_envelopes
from libs.privacy.vault import KeyVault

log = logging.getLogger(__name__)

FORMAT = "lindung-audit-export/1"
PAGE = 5_000
SELECTION_RULE = (
    "payload.regency_code == REGENCY; or, when the payload has no regency_code, payload.worker_id "
    "is a worker named with REGENCY in any event, or the event's stream holds an event of REGENCY"
)


def concerns(
    payload: Mapping[str, Any], stream: str, regency: str, workers: set[str], streams: set[str]
) -> bool:
    """Whether one event concerns `regency` (see the module doc)."""
    code = payload.get("regency_code")
    if code is not None:
        return bool(code == regency)
    return payload.get("worker_id") in workers or stream in streams


def export_line(
    schema: str, row: Any, *, mask_personal_data: bool = False, opened: Envelope | None = None
) -> str:
    """One JSON Lines record for an `events` row (see the module doc). Unmasked, the envelope is
    the stored one (personal fields sealed: the hash recipe holds); masked, the `opened` one
    (libs/privacy: clear, or FORGOTTEN) is masked."""
    envelope = json.loads(row_to_envelope(row).canonical_json())
    if mask_personal_data:
        shown = opened.model_dump(mode="json")["payload"] if opened is not None else envelope["payload"]
        envelope["payload"] = masked_payload(shown)
    record = {
        "service": schema,
        "position": row.position,
        "recorded_at": row.recorded_at.astimezone(UTC).isoformat(),
        "prev_hash": row.prev_hash,
        "hash": row.hash,
        "envelope": envelope,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class ExportFile:
    """One written file of the export."""

    name: str
    service: str
    events: int
    sha256: str
    bytes: int


@dataclass
class ExportResult:
    """What was written where."""

    out_dir: Path
    files: list[ExportFile] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(f.events for f in self.files)


def software_version() -> str:
    """The installed Lindung version."""
    try:
        return metadata.version("lindung")
    except metadata.PackageNotFoundError:
        return "unknown"


async def membership(
    conn: AsyncConnection, schemas: Sequence[str], regency: str
) -> tuple[set[str], set[str]]:
    """Workers and streams named with `regency` in any event of any schema, any year."""
    workers: set[str] = set()
    streams: set[str] = set()
    for schema in schemas:
        events = eventstore_tables(MetaData(), schema).events
        rows = await conn.execute(
            select(events.c.payload["worker_id"].astext.label("w"), events.c.aggregate_id)
            .where(events.c.payload["regency_code"].astext == regency)
            .distinct()
        )
        for row in rows:
            if row.w is not None:
                workers.add(row.w)
            streams.add(row.aggregate_id)
    return workers, streams


async def export_regency_year(
    conn: AsyncConnection,
    *,
    regency: str,
    year: int,
    out_dir: Path,
    schemas: Sequence[str] | None = None,
    version: str | None = None,
    progress: Progress = NO_PROGRESS,
    mask_personal_data: bool = True,
    requested_by: str | None = None,
    vault: KeyVault | None = None,
) -> ExportResult:
    """Write `events-<service>.jsonl` per schema, `manifest.json` and `SHA256SUMS` into `out_dir`
    (personal data masked unless `mask_personal_data` is False, see the module doc; who asked
    for an unmasked export, `requested_by` or the OS user, is logged and put in the manifest)."""
    chosen = list(schemas) if schemas is not None else await event_store_schemas(conn)
    start, end = year_bounds(year)
    workers, streams = await membership(conn, chosen, regency)
    out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    unmasked = None
    if not mask_personal_data:
        unmasked = {
            "by": requested_by or getpass.getuser(),
            "at": datetime.now(UTC).isoformat(),
            "regency_code": regency,
            "year": year,
        }
        log.warning(
            "UNMASKED audit export by %s of regency %s, year %s, into %s",
            unmasked["by"],
            regency,
            year,
            out_dir,
        )
    result = ExportResult(out_dir)
    total = 0
    for schema in chosen:
        events = eventstore_tables(MetaData(), schema).events
        in_year = (events.c.occurred_at >= start) & (events.c.occurred_at < end)
        total += int(
            (await conn.execute(select(func.count()).select_from(events).where(in_year))).scalar_one()
        )
    progress.start(f"exporting regency {regency}, {year}", total)
    for schema in chosen:
        result.files.append(
            await _export_schema(
                conn,
                schema,
                (start, end),
                out_dir,
                result,
                progress,
                lambda p, s: concerns(p, s, regency, workers, streams),
                mask_personal_data,
                vault,
            )
        )
    progress.finish()
    manifest = _manifest(result, regency, year, (start, end), chosen, version or software_version())
    if mask_personal_data:
        manifest["personal_data"] = MASKED_NOTE
    else:
        manifest["unmasked"] = unmasked
    with private_file(out_dir / "manifest.json") as out:
        out.write((json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode())
    sums = [f"{f.sha256}  {f.name}" for f in result.files]
    sums.append(f"{_sha256_file(out_dir / 'manifest.json')}  manifest.json")
    with private_file(out_dir / "SHA256SUMS") as out:
        out.write(("\n".join(sums) + "\n").encode())
    return result


def private_file(path: Path) -> IO[bytes]:
    """`path` opened for writing, readable by its owner only (0600, also when it existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")


async def _export_schema(
    conn: AsyncConnection,
    schema: str,
    bounds: tuple[datetime, datetime],
    out_dir: Path,
    result: ExportResult,
    progress: Progress,
    selected: Callable[[Mapping[str, Any], str], bool],
    mask_personal_data: bool,
    vault: KeyVault | None = None,
) -> ExportFile:
    events = eventstore_tables(MetaData(), schema).events
    name = f"events-{schema}.jsonl"
    digest = hashlib.sha256()
    counts: Counter[str] = Counter()
    size = 0
    last = 0
    with private_file(out_dir / name) as out:
        while True:
            rows = (
                await conn.execute(
                    select(events)
                    .where(events.c.position > last)
                    .where(events.c.occurred_at >= bounds[0], events.c.occurred_at < bounds[1])
                    .order_by(events.c.position)
                    .limit(PAGE)
                )
            ).all()
            if not rows:
                break
            # Masked exports show personal fields opened (then masked): FORGOTTEN once forgotten.
            stored = [row_to_envelope(row) for row in rows]
            opened = await open_envelopes(conn, vault, stored) if mask_personal_data else stored
            for row, shown in zip(rows, opened, strict=True):
                progress.advance()
                if not selected(row.payload, row.aggregate_id):
                    continue
                line = export_line(schema, row, mask_personal_data=mask_personal_data, opened=shown)
                data = (line + "\n").encode("utf-8")
                out.write(data)
                digest.update(data)
                size += len(data)
                counts[row.event_type] += 1
            last = rows[-1].position
    result.counts[schema] = dict(sorted(counts.items()))
    return ExportFile(name, schema, sum(counts.values()), digest.hexdigest(), size)


def _sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _manifest(
    result: ExportResult,
    regency: str,
    year: int,
    bounds: tuple[datetime, datetime],
    schemas: Sequence[str],
    version: str,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "parameters": {
            "regency_code": regency,
            "year": year,
            "timezone": "WIB (UTC+07:00)",
            "occurred_from": bounds[0].isoformat(),
            "occurred_before": bounds[1].isoformat(),
            "services": list(schemas),
            "selection": SELECTION_RULE,
        },
        "software": {"name": "lindung", "version": version},
        "personal_data": "lines may hold NIKs and names (UU 27/2022): keep under the audit's data agreement",
        "line_hash": "sha256(prev_hash + '\\n' + canonical JSON of envelope (jq -cS .envelope)) == hash",
        "total_events": result.total,
        "counts": result.counts,
        "files": [
            {"name": f.name, "service": f.service, "events": f.events, "bytes": f.bytes, "sha256": f.sha256}
            for f in result.files
        ],
    }
