"""Applying a replay's inputs to the fresh schema: in batches through the service's batch
projectors (as the live service projects each appended batch), or one by one (the reference).

Batches are runs of consecutive inputs of the same log (own events, consumed envelopes) in the
applied order, at most `size` long: the order stays the order the inputs were applied live; a
batch only changes how many statements carry it. Each batch runs under a savepoint; when it
fails, it is rolled back to the savepoint and applied again one by one with the one-by-one
projectors, which name the input that cannot be applied (or, if none fails, the batch's
projection is at fault and the run says so in a note, its result the reference's).

Consumed envelopes go through the definition's `consumed_batch_projector` when it has one (the
same read-model effects over a batch), else through `consumed_projector` one by one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.audit.progress import Progress
from libs.audit.source import Applied, Origin
from libs.events.envelope import Envelope
from libs.pii import redact_niks
from libs.runtime.service import ServiceDefinition

BATCH = 1_000
BatchProjector = Callable[[AsyncConnection, Sequence[Envelope]], Awaitable[None]]


class ReplayError(RuntimeError):
    """An input could not be applied: the log holds something the projectors cannot read."""


@dataclass
class Applying:
    """What applying the inputs did: counts per log, batches, and notes for the report."""

    own: int = 0
    consumed: int = 0
    batches: int = 0
    notes: list[str] = field(default_factory=list)


async def batches(inputs: AsyncIterator[Applied], size: int = BATCH) -> AsyncIterator[list[Applied]]:
    """Runs of consecutive inputs from the same log, in order, at most `size` each."""
    run: list[Applied] = []
    async for item in inputs:
        if run and (item.origin != run[0].origin or len(run) >= size):
            yield run
            run = []
        run.append(item)
    if run:
        yield run


def batch_projector_of(definition: ServiceDefinition, origin: Origin) -> BatchProjector | None:
    """The definition's projection of a whole batch of `origin`'s inputs, if it has one."""
    if origin == "own":
        return definition.batch_projector
    return definition.consumed_batch_projector


async def apply_inputs(
    writer: AsyncConnection,
    definition: ServiceDefinition,
    inputs: AsyncIterator[Applied],
    progress: Progress,
    *,
    one_by_one: bool = False,
    size: int = BATCH,
) -> Applying:
    """Apply every input in order: in batches (one by one with `one_by_one`, the reference)."""
    done = Applying()
    async for run in batches(inputs, 1 if one_by_one else size):
        project = None if one_by_one else batch_projector_of(definition, run[0].origin)
        if project is None or len(run) == 1:
            await _one_by_one(writer, definition, run)
        else:
            await _batch(writer, definition, project, run, done)
        done.batches += 1
        if run[0].origin == "own":
            done.own += len(run)
        else:
            done.consumed += len(run)
        progress.advance(len(run))
    return done


async def _batch(
    writer: AsyncConnection,
    definition: ServiceDefinition,
    project: BatchProjector,
    run: list[Applied],
    done: Applying,
) -> None:
    try:
        async with writer.begin_nested():
            await project(writer, [item.envelope for item in run])
    except Exception as exc:
        await _one_by_one(writer, definition, run)  # raises ReplayError naming the input, if one fails
        first = run[0].position if run[0].position is not None else "Kafka"
        done.notes.append(
            f"a batch of {len(run)} {run[0].origin} inputs from position {first} failed in the batch "
            f"projection ({type(exc).__name__}) and was applied one by one"
        )


async def _one_by_one(writer: AsyncConnection, definition: ServiceDefinition, run: list[Applied]) -> None:
    for item in run:
        project = definition.projector if item.origin == "own" else definition.consumed_projector
        try:
            await project(writer, item.envelope)
        except Exception as exc:
            raise ReplayError(_failure(item, exc)) from exc


def _failure(item: Applied, exc: Exception) -> str:
    where = f"position {item.position}" if item.position is not None else "Kafka"
    # First line only (SQL parameters would follow) and NIKs masked: reports get shared.
    text = str(exc).strip()
    reason = redact_niks(text.splitlines()[0] if text else "")
    envelope: Any = item.envelope
    return (
        f"{item.origin} event {envelope.event_id} ({envelope.event_type} "
        f"v{envelope.schema_version}, {where}) failed: {type(exc).__name__}: {reason}"
    )


_WRITES = text(
    "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS written FROM pg_stat_xact_user_tables "
    "WHERE schemaname = :schema"
)


async def _live_writes(writer: AsyncConnection, schema: str) -> dict[str, int]:
    """Rows this transaction wrote so far in each table of the live schema (PostgreSQL's counts)."""
    rows = await writer.execute(_WRITES, {"schema": schema})
    return {r.relname: int(r.written) for r in rows}


async def apply_guarded(
    writer: AsyncConnection,
    definition: ServiceDefinition,
    inputs: Callable[[], AsyncIterator[Applied]],
    progress: Progress,
    *,
    live_schema: str,
    one_by_one: bool = False,
    size: int = BATCH,
) -> Applying:
    """`apply_inputs`, and proof that every write went to the fresh schema: a projector whose
    textual SQL names the live schema itself escapes `schema_translate_map`. Batched, such a
    run is rolled back to its savepoint and applied again one by one (noted); a one-by-one run
    that still writes the live tables raises ReplayError (the caller rolls everything back, so
    nothing is written there even with --keep)."""
    before = await _live_writes(writer, live_schema)
    attempt = await writer.begin_nested()
    done = await apply_inputs(writer, definition, inputs(), progress, one_by_one=one_by_one, size=size)
    after = await _live_writes(writer, live_schema)
    strays = ", ".join(sorted(t for t, n in after.items() if n != before.get(t, 0)))
    if not strays:
        await attempt.commit()
        return done
    await attempt.rollback()
    if one_by_one:
        raise ReplayError(
            f"the one-by-one projection wrote the live {live_schema} tables ({strays}) instead of "
            "the fresh schema: its SQL must follow schema_translate_map"
        )
    progress.start(f"{definition.name}: applying again one by one", None)
    again = await apply_guarded(
        writer, definition, inputs, progress, live_schema=live_schema, one_by_one=True, size=size
    )
    again.notes.insert(
        0,
        f"the batch projection wrote the live {live_schema} tables ({strays}) instead of the fresh "
        "schema (its SQL does not follow schema_translate_map): rolled back, applied again one by one",
    )
    return again
