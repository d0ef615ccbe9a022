"""The registry's application layer as one object: what routes, the consumer and the CLI call,
built once by the composition root (services/registry/bootstrap.py) from settings, clocks and
ports. HTTP commands run in transactions of the kit they are given (the runtime's `rt.kit`)."""

from __future__ import annotations

from dataclasses import dataclass

from libs.events.contracts.registry import Channel
from libs.eventstore.kit import Origin, StreamKit
from libs.eventstore.ports import StoreTransaction
from services.registry.adapters.upload import ZipLimits
from services.registry.application.changes import Changes, Correction
from services.registry.application.commands import NominateWorker
from services.registry.application.forget import Forgetting
from services.registry.application.handlers import RegistryReactor
from services.registry.application.inbound import Inbound
from services.registry.application.nominate import NominationRequest, NominationResult, Nominations
from services.registry.application.reference import Reference
from services.registry.domain.worker import NominationState, WithdrawalReason


@dataclass(frozen=True)
class UploadPolicy:
    """How big a list may be, how a spreadsheet's zip is checked, and how many rows are decided
    per transaction."""

    max_rows: int
    zip_limits: ZipLimits
    batch: int


@dataclass(frozen=True)
class Registry:
    """Every handler of the registry, bound to its settings."""

    nominations: Nominations
    changes: Changes
    inbound: Inbound
    reference: Reference
    forgetting: Forgetting
    reactor: RegistryReactor
    upload: UploadPolicy

    async def nominate(
        self, kit: StreamKit, cmd: NominateWorker, *, channel: Channel, submitted_by: str
    ) -> NominationResult:
        """Decide and record one nomination in its own transaction."""

        async def work(tx: StoreTransaction) -> list[NominationResult]:
            return await self.nominations.decide_in(
                tx,
                [NominationRequest(cmd)],
                programme_code=cmd.programme_code,
                channel=channel,
                submitted_by=submitted_by,
                origin=Origin.new(),
            )

        return (await kit.transact(work))[0]

    async def correct(self, kit: StreamKit, nomination_id: str, correction: Correction) -> NominationResult:
        """Correct a rejected nomination in its own transaction."""

        async def work(tx: StoreTransaction) -> NominationResult:
            return await self.changes.correct_in(tx, nomination_id, correction, origin=Origin.new())

        return await kit.transact(work)

    async def withdraw(
        self, kit: StreamKit, nomination_id: str, reason: WithdrawalReason, note: str, *, withdrawn_by: str
    ) -> NominationState:
        """Withdraw a nomination in its own transaction."""

        async def work(tx: StoreTransaction) -> NominationState:
            return await self.changes.withdraw_in(
                tx, nomination_id, reason, note, withdrawn_by=withdrawn_by, origin=Origin.new()
            )

        return await kit.transact(work)
