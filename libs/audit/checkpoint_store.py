"""Checkpoints (libs/audit/checkpoint.py) taken from a database, kept in files and on a topic,
and the stores checked against them.

The file `<dir>/<store>.jsonl` is append-only (O_APPEND, 0600): one signed checkpoint a line.
The topic lindung.audit.checkpoints.v1 carries the same signed bytes (value: the canonical
body; headers: lindung-key-id and lindung-signature), key = the store.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, select, text
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.audit.checkpoint import (
    Checkpoint,
    Checkpointer,
    CheckpointRefused,
    Head,
    HeadChange,
    Signed,
    claimed_heads,
    head_changes,
    merkle_root,
    open_signed,
    parse_line,
    reconstruct,
    sign,
)
from libs.events.envelope import utcnow
from libs.events.signing import Keyring, Signer, load_signer
from libs.events.topics import AUDIT_CHECKPOINTS, TOPICS
from libs.eventstore.tables import eventstore_tables
from libs.messaging.kafka import Target
from libs.settings import Settings

if TYPE_CHECKING:
    from libs.runtime.service import Runtime

log = logging.getLogger(__name__)
BATCH = 5_000
# The services that checkpoint their store on a schedule: those allowed to write the topic.
CHECKPOINTING_SERVICES = next(t.producers for t in TOPICS if t.name == AUDIT_CHECKPOINTS)


def checkpoint_dir(settings: Settings) -> Path:
    return Path(settings.audit_checkpoint_dir or Path(settings.data_dir) / "checkpoints")


async def store_heads(conn: AsyncConnection, store: str) -> dict[str, Head]:
    """Every stream's head in `store` (one query, along the (stream, version) unique index)."""
    events = eventstore_tables(MetaData(), store).events
    rows = await conn.execute(
        select(events.c.aggregate_id, events.c.aggregate_version, events.c.hash)
        .order_by(events.c.aggregate_id, events.c.aggregate_version.desc())
        .ext(distinct_on(events.c.aggregate_id))
    )
    return {r.aggregate_id: (r.aggregate_version, r.hash) for r in rows}


async def hashes_at(
    conn: AsyncConnection, store: str, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], str]:
    """The stored hash at each (stream, version) of `keys` that still exists."""
    wanted = sorted(set(keys))
    found: dict[tuple[str, int], str] = {}
    query = text(
        f'SELECT e.aggregate_id, e.aggregate_version, e.hash FROM "{store}".events e '
        "JOIN unnest(CAST(:streams AS text[]), CAST(:versions AS int[])) AS k(stream, version) "
        "ON e.aggregate_id = k.stream AND e.aggregate_version = k.version"
    )
    for start in range(0, len(wanted), BATCH):
        part = wanted[start : start + BATCH]
        rows = await conn.execute(query, {"streams": [s for s, _ in part], "versions": [v for _, v in part]})
        found.update({(r.aggregate_id, r.aggregate_version): r.hash for r in rows})
    return found


def append_line(directory: Path, store: str, signed: Signed) -> Path:
    """Append the signed checkpoint to `<directory>/<store>.jsonl` (created 0600), synced."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{store}.jsonl"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (signed.line() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


async def current_database(conn: AsyncConnection) -> str:
    return str((await conn.execute(text("SELECT current_database()"))).scalar_one())


async def take(
    conn: AsyncConnection, checkpointer: Checkpointer, signer: Signer
) -> tuple[Checkpoint, Signed]:
    """The next checkpoint of the checkpointer's store, signed."""
    checkpoint = checkpointer.take(await store_heads(conn, checkpointer.store), utcnow())
    return checkpoint, sign(checkpoint, signer)


@dataclass
class Loaded:
    """The checkpoints of a directory whose signatures hold, by store, and the lines refused."""

    checkpoints: dict[str, list[Checkpoint]] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)
    other_databases: int = 0

    @property
    def empty(self) -> bool:
        return not (self.checkpoints or self.refused)


def checkpoint_lines(directory: Path) -> list[tuple[str, str]]:
    """(where, line) of every non-empty line of the directory's checkpoint files."""
    found: list[tuple[str, str]] = []
    for path in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                found.append((f"{path.name} line {number}", line))
    return found


async def topic_lines(target: Target) -> list[tuple[str, str]]:
    """(where, line) of every checkpoint on lindung.audit.checkpoints.v1, as the file would hold
    it: the record's value is the signed body, its headers the key id and signature."""
    from libs.audit.kafka_source import read_records
    from libs.events.signing import KEY_ID_HEADER, SIGNATURE_HEADER

    found: list[tuple[str, str]] = []
    for record in await read_records(target, [AUDIT_CHECKPOINTS]):
        headers = {name: raw.decode("utf-8", "replace") for name, raw in record.headers}
        try:
            line = Signed(
                record.value, headers.get(KEY_ID_HEADER, ""), headers.get(SIGNATURE_HEADER, "")
            ).line()
        except ValueError:
            line = record.value.decode("utf-8", "replace")  # not JSON: refused as a line
        found.append((f"{AUDIT_CHECKPOINTS} {record.partition}@{record.offset}", line))
    return found


def load_checkpoints(lines: Iterable[tuple[str, str]], keyring: Keyring, database: str) -> Loaded:
    """The checkpoints of `database` among `lines`. Every line's signature is checked first: a
    line altered to name another database is refused, not skipped."""
    loaded = Loaded()
    for where, line in lines:
        try:
            checkpoint = open_signed(parse_line(line), keyring)
        except CheckpointRefused as exc:
            loaded.refused.append(f"{where}: {exc}")
            continue
        if checkpoint.database != database:
            loaded.other_databases += 1
            continue
        loaded.checkpoints.setdefault(checkpoint.store, []).append(checkpoint)
    return loaded


@dataclass
class AnchorReport:
    """The stores against their checkpoints: heads checked, and what no longer holds."""

    checkpoints: dict[str, int] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)
    last: dict[str, Checkpoint] = field(default_factory=dict)
    changes: list[HeadChange] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    inconsistent: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.changes or self.refused or self.inconsistent)

    def changed_streams(self) -> dict[str, list[str]]:
        """Store -> the streams changed after a checkpoint, each once."""
        named: dict[str, list[str]] = {}
        for change in self.changes:
            streams = named.setdefault(change.store, [])
            if change.stream not in streams:
                streams.append(change.stream)
        return named


async def verify_against(
    conn: AsyncConnection, loaded: Loaded, stores: Sequence[str], only: Sequence[str] | None = None
) -> AnchorReport:
    """Every head the checkpoints vouch for must still be in the store with the same hash; the
    last checkpoint of each store must reconstruct (links, root) from the file."""
    report = AnchorReport(refused=list(loaded.refused))
    for store, checkpoints in sorted(loaded.checkpoints.items()):
        if only is not None and store not in only:
            continue
        claims = claimed_heads(checkpoints)
        keys = {(stream, version) for stream, version, _ in claims}
        found = await hashes_at(conn, store, keys) if store in stores else {}
        report.changes += head_changes(store, claims, found)
        report.checkpoints[store], report.heads[store] = len(checkpoints), len(claims)
        last = max(checkpoints, key=lambda c: c.taken_at)
        report.last[store] = last
        heads = reconstruct(checkpoints, last)
        if heads is None:
            report.inconsistent.append(
                f"{store}: checkpoint {last.checkpoint_id[:8]} links to one the file no longer holds"
            )
        elif merkle_root(heads) != last.root or len(heads) != last.streams:
            report.inconsistent.append(
                f"{store}: the heads of checkpoint {last.checkpoint_id[:8]} do not give its signed root"
            )
    return report


# --- the schedule inside each service ---------------------------------------------------------


def scheduled_checkpoints(rt: Runtime) -> Coroutine[Any, Any, None] | None:
    """The service's checkpoint loop, or None: interval 0, a service that does not checkpoint
    (the dashboard's store is empty, the simulator plays BPJS), or no signing key."""
    settings, name = rt.settings, rt.definition.name
    if settings.audit_checkpoint_interval_s <= 0 or name not in CHECKPOINTING_SERVICES:
        return None
    signer = load_signer(settings.event_signing_key_file, settings.event_signing_key_id)
    if signer is None:
        log.info("%s: no event signing key, so no signed checkpoints of its store", name)
        return None
    return _checkpoint_loop(rt, signer, checkpoint_dir(settings), settings.audit_checkpoint_interval_s)


async def _checkpoint_loop(rt: Runtime, signer: Signer, directory: Path, interval_s: float) -> None:
    """One checkpoint at start, then one per interval: to the file first, then to the topic."""
    store = rt.definition.tables.schema
    checkpointer: Checkpointer | None = None
    while True:
        try:
            async with rt.engine.connect() as conn:
                if checkpointer is None:
                    checkpointer = Checkpointer(await current_database(conn), store, rt.definition.name)
                checkpoint, signed = await take(conn, checkpointer, signer)
            await asyncio.to_thread(append_line, directory, store, signed)
            await rt.producer.send_and_wait(
                AUDIT_CHECKPOINTS, signed.body, key=store.encode(), headers=signed.headers()
            )
            log.info("%s: checkpoint %s, %d streams", store, checkpoint.checkpoint_id, checkpoint.streams)
        except asyncio.CancelledError:
            raise
        except Exception:
            # The next round tries again, with a full checkpoint (this one's delta base may be
            # lost); a missed checkpoint weakens the anchor, not the service.
            log.exception("%s: checkpoint failed", store)
            checkpointer = None
        await asyncio.sleep(interval_s)
