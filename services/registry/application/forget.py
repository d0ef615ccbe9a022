"""Forgetting a person (`lindung privacy forget NIK --reason ...`, docs/security.md).

In one transaction: the person's data key is destroyed (the vault keeps a tombstone: who, when,
why) and PersonForgotten is appended to their stream. Every personal field Lindung sealed under
that key, in every table and topic, reads as FORGOTTEN from then on; the registry's projection
scrubs its read model and the other services scrub theirs when they read the event.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.contracts.registry import PersonForgotten
from libs.eventstore.store import EventStore
from libs.identity import worker_id_for
from libs.nik import normalize_nik
from libs.privacy.vault import KeyVault
from services.registry.application.nominate import stream_of
from services.registry.domain.answers import Answer, AnswerCode, answer


class ForgetRefused(Exception):
    """Nothing was forgotten: the answer says why."""

    def __init__(self, status: int, refusal: Answer) -> None:
        super().__init__(refusal.code)
        self.status = status
        self.answer = refusal


async def forget(
    engine: AsyncEngine,
    store: EventStore,
    nik: str,
    *,
    forgotten_by: str,
    reason: str,
    pepper: str,
) -> PersonForgotten:
    """Destroy the key of the person with this NIK and record it; ForgetRefused when the vault is
    not configured, the person is unknown, or forgotten already."""
    vault: KeyVault | None = store.vault
    if vault is None:
        raise ForgetRefused(409, answer(AnswerCode.PRIVACY_NOT_CONFIGURED))
    worker_id = worker_id_for(normalize_nik(nik), pepper)
    stream = stream_of(worker_id)
    async with engine.begin() as conn:
        version, last_hash = await store.head(conn, stream)
        if version == 0:
            raise ForgetRefused(404, answer(AnswerCode.PERSON_NOT_FOUND))
        tombstone = await vault.forget(conn, worker_id, by=forgotten_by, reason=reason)
        if tombstone is None:
            raise ForgetRefused(409, answer(AnswerCode.PERSON_ALREADY_FORGOTTEN))
        event = PersonForgotten(
            worker_id=worker_id,
            forgotten_by=forgotten_by,
            reason=reason,
            key_generation=tombstone.generation,
        )
        await store.append(
            conn,
            stream,
            [event],
            expected_version=version,
            expected_hash=last_hash,
            correlation_id=uuid.uuid4(),
        )
    return event
