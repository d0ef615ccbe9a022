"""The simulator's reaction to Lindung's requests: decide a consumed batch at once, as BPJS would,
once per attempt; send each answer now or hold it until it is due (delays, repeats, outages:
see `release.py`).

One batch, one transaction (the consumer's): the ledger of everything the batch's requests name
is read once (one query per table), the KPJs and receipt numbers it needs are drawn in bulk, the
insurer decides every request in order in memory (domain/requests.py), the facts are written
once per table, and the answers due at once are appended through the stream kit's batch
`handle` (the relay publishes them after commit); the others are held.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from libs.events.contracts.bpjs import DeregistrationRequested, PremiumPaymentRequested, RegistrationRequested
from libs.events.envelope import Envelope
from libs.eventstore.kit import handle
from libs.eventstore.ports import StoreTransaction
from libs.messaging.consumer import Consumed
from services.bpjs_simulator.application.ports import HeldAnswer, InsurerBook
from services.bpjs_simulator.application.release import ANSWERS, origin_of
from services.bpjs_simulator.domain.answers import SendAnswer, answer_stream, deliveries
from services.bpjs_simulator.domain.insurer import InsurerBehaviour
from services.bpjs_simulator.domain.ledger import Ledger
from services.bpjs_simulator.domain.requests import BPJS_TIMEZONE, Context, Decided, Request, decide_batch

Now = Callable[[], datetime]
BookOf = Callable[[StoreTransaction], InsurerBook]


class InsurerHandler:
    """Registers participants (or continues them under a new payer), stops payers on
    deregistration, books premium payments, and answers on the results topic.

    `now` is the simulated calendar (registered_at, paid_at); `real_now` times the delays;
    `answering` says whether an answer due at once may go out now (not during an outage)."""

    interested = frozenset(
        {
            RegistrationRequested.event_type,
            DeregistrationRequested.event_type,
            PremiumPaymentRequested.event_type,
        }
    )

    def __init__(
        self,
        behaviour: InsurerBehaviour,
        book_of: BookOf,
        *,
        now: Now,
        real_now: Now,
        answering: Callable[[], bool] = lambda: True,
    ) -> None:
        self.behaviour = behaviour
        self.book_of = book_of
        self.now = now
        self.real_now = real_now
        self.answering = answering
        # Set when a batch held answers: the release loop looks for due answers only then (a
        # batch answered at once leaves it asleep).
        self.held_some = False

    def today(self) -> date:
        """Today in BPJS's calendar."""
        return self.now().astimezone(BPJS_TIMEZONE).date()

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None:
        """Answer every request of a consumed batch, in order, in the consumer's transaction."""
        asked = [
            (item.clear, item.event)
            for item in items
            if isinstance(
                item.event, RegistrationRequested | DeregistrationRequested | PremiumPaymentRequested
            )
        ]
        if not asked:
            return
        book = self.book_of(tx)
        requests = [event for _, event in asked]
        ledger = await book.ledger_for(requests)
        context = Context(self.behaviour, self.now())
        await self._draw_numbers(book, ledger, requests, context)
        decided = decide_batch(requests, ledger, context)
        assert not (ledger.wanted_kpjs or ledger.wanted_receipts), "the trial counted every number"
        await book.record([fact for one in decided for fact in one.facts])
        await self._send(
            tx, book, [(envelope, one) for (envelope, _), one in zip(asked, decided, strict=True)]
        )

    async def _draw_numbers(
        self, book: InsurerBook, ledger: Ledger, requests: Sequence[Request], context: Context
    ) -> None:
        # A trial on a copy counts the KPJs and receipts the batch issues, so exactly that many are
        # drawn (KPJs stay consecutive, as one by one); the decision proper then takes them in order.
        if all(isinstance(r, DeregistrationRequested) for r in requests):
            return
        trial = copy.deepcopy(ledger)
        decide_batch(requests, trial, context)
        if trial.wanted_kpjs:
            ledger.fresh_kpjs = await book.kpj_numbers(trial.wanted_kpjs)
        if trial.wanted_receipts:
            ledger.receipts = await book.payment_numbers(trial.wanted_receipts)

    async def _send(
        self, tx: StoreTransaction, book: InsurerBook, answered: list[tuple[Envelope, Decided]]
    ) -> None:
        """Append the answers due at once to their streams (one append); hold the others."""
        sent_at = self.real_now()
        direct = self.answering()
        now: list[SendAnswer] = []
        held: list[HeldAnswer] = []
        for envelope, one in answered:
            if one.answer is None:
                continue  # this attempt was answered already (the request came twice): answer once
            stream = answer_stream(one.kind, one.request_id)
            for sending in deliveries(self.behaviour, f"{one.kind}:{one.request_id}:{one.attempt}"):
                if direct and sending.delay_ms == 0:
                    now.append(SendAnswer(stream, one.answer, envelope.correlation_id, envelope.event_id))
                    continue
                held.append(
                    HeldAnswer(
                        stream=stream,
                        event_type=one.answer.event_type,
                        payload=one.answer.model_dump(mode="json"),
                        correlation_id=envelope.correlation_id,
                        causation_id=envelope.event_id,
                        due_at=sent_at + timedelta(milliseconds=sending.delay_ms),
                        copy=sending.copy,
                        late=sending.late,
                    )
                )
        if held:
            await book.hold(held)
            self.held_some = True
        if now:
            await handle(tx, ANSWERS, now, origin=origin_of)
