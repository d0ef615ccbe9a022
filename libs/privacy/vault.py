"""The key vault: one deletable row per person's data key, in the schema `privacy`.

`data_keys` holds each subject's current key, wrapped by the master key; `forgotten` keeps a
tombstone per forgetting (subject, generation, when, by whom, why; never a NIK). Forgetting
deletes the key row: there is no other copy, so the person's ciphertexts are unreadable from
then on, in every table, topic and backup taken afterwards. Look-ups are batched (one query for
a batch of subjects) because a province-year is some 25,000 workers.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.privacy.cipher import DataKey, MasterKey, new_data_key
from libs.settings import Settings
from libs.sql_arrays import any_of, insert_rows

SCHEMA = "privacy"

metadata = MetaData(schema=SCHEMA)

data_keys = Table(
    "data_keys",
    metadata,
    Column("subject", Text, primary_key=True),
    Column("generation", Integer, nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
    Column("master_key_id", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

forgotten = Table(
    "forgotten",
    metadata,
    Column("subject", Text, nullable=False),
    Column("generation", Integer, nullable=False),
    Column("forgotten_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("forgotten_by", Text, nullable=False),
    Column("reason", Text, nullable=False),
    PrimaryKeyConstraint("subject", "generation", name="forgotten_pk"),
)


@dataclass(frozen=True)
class Tombstone:
    """What is kept of a forgetting: never the person's data."""

    subject: str
    generation: int
    forgotten_at: datetime
    forgotten_by: str
    reason: str


class KeyVault:
    """Data keys of subjects, wrapped by one master key (the current one)."""

    def __init__(self, master: MasterKey) -> None:
        self.master = master

    def _unwrap(self, subject: str, generation: int, wrapped: bytes) -> DataKey:
        return DataKey(subject, generation, self.master.unwrap(subject, generation, wrapped))

    async def keys(self, conn: AsyncConnection, subjects: Iterable[str]) -> dict[str, DataKey]:
        """The current keys of `subjects` that have one (one query); a subject missing from the
        answer has none: never given one, or forgotten."""
        wanted = sorted(set(subjects))
        if not wanted:
            return {}
        rows = await conn.execute(select(data_keys).where(any_of(data_keys.c.subject, wanted)))
        return {r.subject: self._unwrap(r.subject, r.generation, r.wrapped) for r in rows}

    async def keys_for_writing(self, conn: AsyncConnection, subjects: Sequence[str]) -> dict[str, DataKey]:
        """A key for every subject: the current one, else a new one (the generation after the
        last forgotten one). Two writers creating one subject's key at once agree on the one
        inserted first."""
        found = await self.keys(conn, subjects)
        missing = sorted(set(subjects) - set(found))
        if not missing:
            return found
        tombstones = await conn.execute(
            select(forgotten.c.subject, func.max(forgotten.c.generation).label("last"))
            .where(any_of(forgotten.c.subject, missing))
            .group_by(forgotten.c.subject)
        )
        last = {r.subject: int(r.last) for r in tombstones}
        rows = []
        for subject in missing:
            generation = last.get(subject, 0) + 1
            rows.append(
                {
                    "subject": subject,
                    "generation": generation,
                    "wrapped": self.master.wrap(subject, generation, new_data_key()),
                    "master_key_id": self.master.key_id,
                }
            )
        # One array parameter a column: one statement (and one statement text) however many keys.
        await conn.execute(insert_rows(data_keys, rows).on_conflict_do_nothing(index_elements=["subject"]))
        return found | await self.keys(conn, missing)

    async def forget(self, conn: AsyncConnection, subject: str, *, by: str, reason: str) -> Tombstone | None:
        """Destroy `subject`'s key and record who and why; None when there was no key (never
        given one, or forgotten already)."""
        deleted = (
            await conn.execute(
                data_keys.delete().where(data_keys.c.subject == subject).returning(data_keys.c.generation)
            )
        ).first()
        if deleted is None:
            return None
        row = (
            await conn.execute(
                insert(forgotten)
                .values(subject=subject, generation=deleted.generation, forgotten_by=by, reason=reason)
                .returning(forgotten)
            )
        ).one()
        return Tombstone(row.subject, row.generation, row.forgotten_at, row.forgotten_by, row.reason)

    async def tombstones(self, conn: AsyncConnection, subject: str) -> list[Tombstone]:
        """Every forgetting of `subject`, oldest first."""
        rows = await conn.execute(
            select(forgotten).where(forgotten.c.subject == subject).order_by(forgotten.c.generation)
        )
        return [Tombstone(r.subject, r.generation, r.forgotten_at, r.forgotten_by, r.reason) for r in rows]


def vault_of(settings: Settings) -> KeyVault | None:
    """The vault of LINDUNG_PRIVACY_MASTER_KEY (None when it is not set)."""
    key = settings.privacy_master_key
    return KeyVault(MasterKey.parse(key.get_secret_value())) if key is not None else None


DEV_MASTER_KEY_FILE = "privacy-master.key"


def dev_master_key(folder: Path) -> MasterKey:
    """The development master key `lindung up` keeps in `folder` (<data_dir>/keys), made once
    (0600). Never for production: set LINDUNG_PRIVACY_MASTER_KEY from a secret store there."""
    path = folder / DEV_MASTER_KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(MasterKey.generate().text() + "\n")
    return MasterKey.parse(path.read_text())


def operator_vault(settings: Settings) -> KeyVault | None:
    """The vault for an operator's command (`lindung audit replay / export`): the configured
    master key, else the development one of a `lindung up` on this machine, else None."""
    configured = vault_of(settings)
    if configured is not None:
        return configured
    path = Path(settings.data_dir) / "keys" / DEV_MASTER_KEY_FILE
    return KeyVault(MasterKey.parse(path.read_text())) if path.exists() else None
