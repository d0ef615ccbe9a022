"""An event is decoded once (issue 17): the envelope the kit builds from an event, or one the store
or the consumer decoded, gives that same event back to whoever decodes it next (a projector)."""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from libs.events import catalog
from libs.events.catalog import decode
from libs.events.contracts.registry import NominationWithdrawn
from libs.events.envelope import Envelope
from libs.eventstore.kit import Origin, recorded_as

WITHDRAWN = NominationWithdrawn(
    worker_id="w-1",
    nomination_id="n-1",
    programme_code="TEST",
    regency_code="12.17",
    reason="moved",
    note="",
    withdrawn_by="test",
)


def test_the_envelope_the_kit_builds_decodes_to_its_own_event() -> None:
    [recorded] = recorded_as(
        [WITHDRAWN],
        stream_id="w-1",
        after_version=0,
        origin=Origin.new(),
        occurred_at=datetime(2026, 2, 1, tzinfo=UTC),
        producer="registry",
    )
    assert decode(recorded.envelope) is recorded.event


def test_a_decoded_envelope_gives_the_same_event_and_a_copy_is_decoded_anew() -> None:
    [recorded] = recorded_as(
        [WITHDRAWN],
        stream_id="w-1",
        after_version=0,
        origin=Origin.new(),
        occurred_at=datetime(2026, 2, 1, tzinfo=UTC),
        producer="registry",
    )
    copy = Envelope.from_bytes(recorded.envelope.canonical().encoded())
    first = decode(copy)
    assert first == recorded.event and first is not recorded.event
    assert decode(copy) is first


def test_what_is_remembered_goes_with_its_envelope() -> None:
    envelope = Envelope.from_bytes(
        recorded_as(
            [WITHDRAWN],
            stream_id="w-2",
            after_version=0,
            origin=Origin.new(),
            occurred_at=datetime(2026, 2, 1, tzinfo=UTC),
            producer="registry",
        )[0]
        .envelope.canonical()
        .encoded()
    )
    gc.collect()
    before = len(catalog._decoded)
    decode(envelope)
    assert len(catalog._decoded) == before + 1
    del envelope
    gc.collect()
    assert len(catalog._decoded) == before
