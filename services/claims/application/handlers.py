"""The claims service's reactions: keep enrollment's coverage facts (enrolled, paid months,
lapses, restorations, ends), and check every claim BPJS reports as paid against them, its
benefit rules and the claims recorded before (the claim stream's decider: domain/claim.py).

Personal data: the claims service never stores a NIK. A claim's NIK is turned into its worker id
(HMAC with the pepper, the id every Lindung service uses); the domain's "same NIK" check
compares those ids, which is the same test without the number itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from libs.events.contracts.bpjs import ClaimPaid
from libs.events.envelope import Envelope
from libs.eventstore.kit import Origin, handle
from libs.eventstore.ports import StoreTransaction
from libs.identity import worker_id_for
from libs.messaging.consumer import Consumed
from services.claims.application.ports import ClaimsBook
from services.claims.domain.benefits import BenefitRules
from services.claims.domain.claim import ReviewClaim, claim_decider, paid_claim_of
from services.claims.domain.coverage import COVERAGE_EVENTS

BookOf = Callable[[StoreTransaction], ClaimsBook]


class ClaimsHandler:
    """Coverage facts on enrollment's coverage events; ClaimRecorded / ClaimFlagged on ClaimPaid.

    Events are applied in the order consumed, each claim in turn: a claim sees the coverage facts
    and the other claims an earlier event of the same batch recorded."""

    interested = frozenset({*(e.event_type for e in COVERAGE_EVENTS), ClaimPaid.event_type})

    def __init__(self, rules: BenefitRules, pepper: str, book_of: BookOf) -> None:
        self.rules = rules
        self.pepper = pepper
        self.book_of = book_of
        self.decider = claim_decider(rules)

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None:
        """Apply a consumed batch in the consumer's transaction."""
        book = self.book_of(tx)
        # A run of coverage facts is kept together, before the claim that follows it reads them.
        facts: list[Envelope] = []
        for item in items:
            if isinstance(item.event, COVERAGE_EVENTS):
                facts.append(item.clear)
            elif isinstance(item.event, ClaimPaid):
                if facts:
                    await book.keep_coverage_facts(facts)
                    facts = []
                await self.paid(tx, book, item)
        if facts:
            await book.keep_coverage_facts(facts)

    async def paid(self, tx: StoreTransaction, book: ClaimsBook, item: Consumed) -> None:
        """Record or flag one claim BPJS paid."""
        assert isinstance(item.event, ClaimPaid)
        worker_id = worker_id_for(item.event.nik, self.pepper)
        # BPJS sends the NIK in clear: the inbox copy keeps it sealed under the person's key.
        await book.seal_inbox_copy(item.clear, worker_id)
        claim = paid_claim_of(item.event, worker_id)
        await book.lock_worker(worker_id)
        command = ReviewClaim(
            claim,
            item.event.programme,
            others=tuple(await book.other_claims(claim)),
            programmes=tuple(await book.coverage_for(claim.kpj, worker_id)),
        )
        await handle(tx, self.decider, [command], origin=Origin.of(item.clear))
