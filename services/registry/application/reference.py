"""Importing a P3KE or DTKS extract: rows keyed by worker id, versioned by the file's hash."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

from sqlalchemy import delete, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.identity import worker_id_for
from services.registry.adapters.tables import reference_dtks, reference_p3ke, reference_versions

BATCH = 5_000


class ReferenceFileError(ValueError):
    """The extract cannot be read (message in Indonesian for the officer)."""


@dataclass(frozen=True)
class ReferenceImport:
    kind: str
    version: str
    rows: int
    skipped: int


def _rows(kind: str, text: str, pepper: str, version: str) -> tuple[list[dict[str, object]], int]:
    reader = csv.DictReader(io.StringIO(text))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if "nik" not in fields or (kind == "p3ke" and "desil" not in fields):
        raise ReferenceFileError(
            "Berkas harus memiliki kolom 'nik'" + (" dan 'desil'." if kind == "p3ke" else ".")
        )
    rows: dict[str, dict[str, object]] = {}
    skipped = 0
    for raw in reader:
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        nik = row["nik"]
        if len(nik) != 16 or not nik.isdigit():
            skipped += 1
            continue
        worker_id = worker_id_for(nik, pepper)
        if kind == "p3ke":
            if not row["desil"].isdigit():
                skipped += 1
                continue
            rows[worker_id] = {"worker_id": worker_id, "decile": int(row["desil"]), "version": version}
        else:
            rows[worker_id] = {"worker_id": worker_id, "version": version}
    return list(rows.values()), skipped


async def import_reference(engine: AsyncEngine, kind: str, content: bytes, pepper: str) -> ReferenceImport:
    """Replace the current extract of `kind` (p3ke | dtks) with `content` (CSV, UTF-8)."""
    if kind not in ("p3ke", "dtks"):
        raise ReferenceFileError(f"Jenis data rujukan '{kind}' tidak dikenal (p3ke atau dtks).")
    version = f"{kind}-{hashlib.sha256(content).hexdigest()[:12]}"
    rows, skipped = _rows(kind, content.decode("utf-8-sig"), pepper, version)
    table = reference_p3ke if kind == "p3ke" else reference_dtks
    async with engine.begin() as conn:
        await conn.execute(delete(table))
        for start in range(0, len(rows), BATCH):
            await conn.execute(insert(table), rows[start : start + BATCH])
        stmt = pg_insert(reference_versions).values(kind=kind, version=version, rows=len(rows))
        await conn.execute(
            stmt.on_conflict_do_update(index_elements=["kind"], set_={"version": version, "rows": len(rows)})
        )
    return ReferenceImport(kind, version, len(rows), skipped)
