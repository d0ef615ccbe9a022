"""A replay applies its inputs in batches of consecutive inputs of one log, in the applied order,
through the batch projectors; one by one on request; a failing batch is applied again one by one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest

from libs.audit.apply import ReplayError, apply_guarded, apply_inputs, batches
from libs.audit.progress import NO_PROGRESS
from libs.audit.source import Applied
from libs.events.envelope import Envelope
from libs.runtime.service import ServiceDefinition
from tests.unit.audit.test_merge_order import feed, item

ORIGINS = ["own", "own", "own", "consumed", "consumed", "own", "consumed", "own", "own", "own"]


def inputs() -> list[Applied]:
    return [item(origin, i, i) for i, origin in enumerate(ORIGINS)]


class Writer:
    """A connection stand-in: savepoints that count themselves."""

    def __init__(self) -> None:
        self.savepoints = 0
        self.rolled_back = 0

    @asynccontextmanager
    async def begin_nested(self) -> AsyncIterator[None]:
        self.savepoints += 1
        try:
            yield
        except Exception:
            self.rolled_back += 1
            raise


class Recorder:
    """Projectors that record what they were called with, in order."""

    def __init__(self, failing_batch: bool = False, failing_position: int | None = None) -> None:
        self.calls: list[tuple[str, list[int]]] = []
        self.failing_batch = failing_batch
        self.failing_position = failing_position

    def position(self, envelope: Envelope) -> int:
        return int(envelope.aggregate_id.rsplit("-", 1)[1])

    async def own(self, conn: Any, envelope: Envelope) -> None:
        if self.position(envelope) == self.failing_position:
            raise RuntimeError("cannot apply")
        self.calls.append(("own", [self.position(envelope)]))

    async def own_batch(self, conn: Any, envelopes: Sequence[Envelope]) -> None:
        if self.failing_batch:
            raise RuntimeError("the batch projection failed")
        self.calls.append(("own batch", [self.position(e) for e in envelopes]))

    async def consumed(self, conn: Any, envelope: Envelope) -> None:
        self.calls.append(("consumed", [self.position(envelope)]))

    def definition(self, batched: bool = True) -> ServiceDefinition:
        return ServiceDefinition(
            name="svc",
            tables=None,  # type: ignore[arg-type]  (not read when applying)
            router=None,  # type: ignore[arg-type]
            projector=self.own,
            batch_projector=self.own_batch if batched else None,
            consumed_projector=self.consumed,
        )


async def test_batches_are_runs_of_one_log_in_order_at_most_size_long() -> None:
    runs = [[(a.origin, a.position) async for a in feed(run)] async for run in batches(feed(inputs()), 2)]
    assert [[p for _, p in run] for run in runs] == [[0, 1], [2], [3, 4], [5], [6], [7, 8], [9]]
    assert all(len({o for o, _ in run}) == 1 for run in runs)


async def test_own_runs_go_through_the_batch_projector_consumed_ones_one_by_one_in_order() -> None:
    recorder, writer = Recorder(), Writer()
    done = await apply_inputs(writer, recorder.definition(), feed(inputs()), NO_PROGRESS)  # type: ignore[arg-type]
    assert recorder.calls == [
        ("own batch", [0, 1, 2]),
        ("consumed", [3]),
        ("consumed", [4]),
        ("own", [5]),  # a run of one: the one-event projector
        ("consumed", [6]),
        ("own batch", [7, 8, 9]),
    ]
    assert (done.own, done.consumed, done.batches, done.notes) == (7, 3, 5, [])
    assert writer.savepoints == 2


async def test_one_by_one_uses_only_the_one_event_projectors() -> None:
    recorder = Recorder()
    done = await apply_inputs(Writer(), recorder.definition(), feed(inputs()), NO_PROGRESS, one_by_one=True)  # type: ignore[arg-type]
    assert [kind for kind, _ in recorder.calls] == ORIGINS
    assert [p for _, ps in recorder.calls for p in ps] == list(range(len(ORIGINS)))
    assert done.batches == len(ORIGINS)


async def test_without_a_batch_projector_every_input_is_applied_alone() -> None:
    recorder = Recorder()
    await apply_inputs(Writer(), recorder.definition(batched=False), feed(inputs()), NO_PROGRESS)  # type: ignore[arg-type]
    assert [kind for kind, _ in recorder.calls] == ORIGINS


async def test_a_failing_batch_is_rolled_back_and_applied_one_by_one_with_a_note() -> None:
    recorder, writer = Recorder(failing_batch=True), Writer()
    done = await apply_inputs(writer, recorder.definition(), feed(inputs()), NO_PROGRESS)  # type: ignore[arg-type]
    assert [kind for kind, _ in recorder.calls] == ORIGINS
    assert writer.rolled_back == 2 and len(done.notes) == 2
    assert "from position 0" in done.notes[0]


async def test_an_input_that_cannot_be_applied_is_named() -> None:
    recorder = Recorder(failing_batch=True, failing_position=8)
    with pytest.raises(
        ReplayError, match=r"own event .* \(X v1, position 8\) failed: RuntimeError: cannot apply"
    ):
        await apply_inputs(Writer(), recorder.definition(), feed(inputs()), NO_PROGRESS)  # type: ignore[arg-type]


class Counted:
    """One row of pg_stat_xact_user_tables."""

    def __init__(self, relname: str, written: int) -> None:
        self.relname, self.written = relname, written


class Savepoint:
    """Awaited (the guard's savepoint) or entered (a batch's), as SQLAlchemy's."""

    def __init__(self, writer: GuardedWriter) -> None:
        self.writer = writer

    def __await__(self) -> Any:
        yield from []
        return self

    async def __aenter__(self) -> Savepoint:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def commit(self) -> None:
        self.writer.committed += 1

    async def rollback(self) -> None:
        self.writer.rolled_back += 1


class GuardedWriter(Writer):
    """A connection whose live tables the batch projector (not the one-by-one one) writes."""

    def __init__(self, recorder: Recorder, *, one_by_one_strays: bool = False) -> None:
        super().__init__()
        self.recorder = recorder
        self.one_by_one_strays = one_by_one_strays
        self.committed = 0

    async def execute(self, statement: Any, params: Any = None) -> list[Counted]:
        batched = sum(len(ps) for kind, ps in self.recorder.calls if kind == "own batch")
        alone = sum(1 for kind, _ in self.recorder.calls if kind == "own") if self.one_by_one_strays else 0
        return [Counted("assignments", batched + alone), Counted("programmes", 0)]

    def begin_nested(self) -> Savepoint:  # type: ignore[override]
        return Savepoint(self)


def _again() -> Any:
    return lambda: feed(inputs())


async def test_a_batch_projection_writing_the_live_tables_is_rolled_back_and_applied_one_by_one() -> None:
    recorder = Recorder()
    writer = GuardedWriter(recorder)
    done = await apply_guarded(writer, recorder.definition(), _again(), NO_PROGRESS, live_schema="svc")  # type: ignore[arg-type]
    assert writer.rolled_back == 1 and writer.committed == 1
    assert "wrote the live svc tables (assignments)" in done.notes[0]
    assert done.batches == len(ORIGINS)  # the second pass: one by one


async def test_a_one_by_one_projection_writing_the_live_tables_stops_the_replay() -> None:
    recorder = Recorder()
    writer = GuardedWriter(recorder, one_by_one_strays=True)
    with pytest.raises(ReplayError, match="one-by-one projection wrote the live svc tables"):
        await apply_guarded(
            writer, recorder.definition(), _again(), NO_PROGRESS, live_schema="svc", one_by_one=True
        )  # type: ignore[arg-type]
    assert writer.committed == 0
