"""Forgetting a person (`lindung privacy forget NIK --reason ...`, docs/security.md).

In one transaction: the person's data key is destroyed (the vault keeps a tombstone: who, when,
why) and PersonForgotten is appended to their stream. Every personal field Lindung sealed under
that key, in every table and topic, reads as FORGOTTEN from then on; the registry's projection
scrubs its read model and the other services scrub theirs when they read the event.
"""

from __future__ import annotations

from dataclasses import dataclass

from libs.events.contracts.registry import PersonForgotten
from libs.eventstore.kit import Origin, StreamKit, handle
from libs.eventstore.ports import StoreTransaction
from libs.identity import worker_id_for
from libs.nik import normalize_nik
from services.registry.application.nominate import WORKERS
from services.registry.application.ports import LookupsOf
from services.registry.domain.answers import AnswerCode, answer
from services.registry.domain.worker import ChangeRefused, Forget, stream_of


@dataclass(frozen=True)
class Forgetting:
    """Forgets people on request of a province admin (the composition root binds the pepper)."""

    pepper: str
    lookups: LookupsOf

    async def forget(self, kit: StreamKit, nik: str, *, forgotten_by: str, reason: str) -> PersonForgotten:
        """Destroy the key of the person with this NIK and record it; ChangeRefused when the vault
        is not configured (409), the person is unknown (404), or forgotten already (409)."""
        worker_id = worker_id_for(normalize_nik(nik), self.pepper)
        stream = stream_of(worker_id)

        async def work(tx: StoreTransaction) -> PersonForgotten:
            lookups = self.lookups(tx)
            if not lookups.privacy_configured:
                raise ChangeRefused(answer(AnswerCode.PRIVACY_NOT_CONFIGURED), 409)
            if (await tx.load([stream]))[stream].version == 0:
                raise ChangeRefused(answer(AnswerCode.PERSON_NOT_FOUND), 404)
            generation = await lookups.destroy_key(worker_id, by=forgotten_by, reason=reason)
            if generation is None:
                raise ChangeRefused(answer(AnswerCode.PERSON_ALREADY_FORGOTTEN), 409)
            command = Forget(worker_id, forgotten_by, reason, generation)
            (decision,) = await handle(tx, WORKERS, [command], origin=Origin.new())
            event = decision.events[0]
            assert isinstance(event, PersonForgotten)
            return event

        return await kit.transact(work)
