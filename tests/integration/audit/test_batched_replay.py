"""Acceptance (issue 17): the read models of a batched run equal those of an event-by-event
rebuild. The package's run went through the live services (each appended batch projected with
the service's batch projector, each consumed batch with its reactor); every service's read
models are rebuilt from its store one by one (the reference) and in batches, and both must equal
the live tables, table by table, and each other."""

from __future__ import annotations

import pytest

from libs.audit.replay import replay
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS
from tests.integration.audit.conftest import AuditRun
from tests.integration.audit.support import declared

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", SERVICES_WITH_SCHEMAS)
async def test_a_batched_rebuild_and_a_one_by_one_rebuild_both_equal_the_live_read_models(
    audit_run: AuditRun, service: str
) -> None:
    definition = audit_run.definitions[service]
    reference = await replay(audit_run.engine, definition, read_models=declared(service), one_by_one=True)
    batched = await replay(audit_run.engine, definition, read_models=declared(service))
    for report in (reference, batched):
        assert report.matches, [(t.table, t.first_difference) for t in report.tables if not t.matches]
    assert [(t.table, t.replay_rows, t.replay_hash) for t in batched.tables] == [
        (t.table, t.replay_rows, t.replay_hash) for t in reference.tables
    ]
    assert (batched.own_events, batched.consumed_envelopes) == (
        reference.own_events,
        reference.consumed_envelopes,
    )
    # The batches really ran as batches: nothing fell back to one by one.
    assert not [n for n in batched.notes if "one by one" in n], batched.notes
    assert reference.batches == reference.applied
    if definition.batch_projector is not None and batched.own_events > 1:
        assert batched.batches < batched.applied
    audit_run.rates[f"{service}/store one by one"] = (reference.applied, reference.events_per_second)
    audit_run.rates[f"{service}/store batched"] = (batched.applied, batched.events_per_second)
