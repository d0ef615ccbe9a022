"""The pipeline bench's nominations on the inbound topic, as the regency systems publish them:
keyed by source_ref and signed with each regency's development key (when the stack has them),
one programme after another when the run has several."""

from __future__ import annotations

import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from libs.events.topics import NOMINATIONS_INBOUND
from lindung_cli.benchmarks import baseline
from lindung_cli.benchmarks.target import Target
from lindung_cli.benchmarks.workload import Workload

Messages = list[tuple[bytes, bytes]]
Headers = list[list[tuple[str, bytes]]]


def nominations(target: Target, workload: Workload, indices: Sequence[int]) -> tuple[Messages, Headers]:
    """The (key, value) and the signature headers of the nominations of workers `indices`."""
    people = [workload.worker(i) for i in indices]
    messages = [(w.source_ref.encode(), workload.submitted(w).model_dump_json().encode()) for w in people]
    signers = target.signers()
    headers = [
        signers[producer].headers(value) if producer in signers else []
        for producer, (_, value) in zip((f"regency-{w.regency}" for w in people), messages, strict=True)
    ]
    return messages, headers


async def submit(
    target: Target, workload: Workload, indices: Sequence[int] | None = None
) -> tuple[float, float, list[float], int]:
    """Publish the nominations of `indices` (default: every worker of the workload);
    (t0, seconds, ack time per worker in `indices`' order, mean message bytes)."""
    chosen = range(workload.workers) if indices is None else indices
    t0, elapsed, (acked,), size = await submit_in_turn(target, [(workload, chosen)])
    return t0, elapsed, acked, size


async def submit_in_turn(
    target: Target, parts: Sequence[tuple[Workload, Sequence[int]]]
) -> tuple[float, float, list[list[float]], int]:
    """Publish each programme's nominations (workers `indices` of its workload) once the previous
    programme's are all acknowledged, as successive programme-years come; (t0, seconds from the
    first sent to the last acknowledged, ack times per programme in `indices`' order, mean
    message bytes)."""
    # Built and signed before the clock starts: the stack's work is measured, not the bench's.
    built = [nominations(target, workload, indices) for workload, indices in parts]
    sent = [value for messages, _ in built for _, value in messages]
    size = sum(len(v) for v in sent) // max(1, len(sent))
    producer = AIOKafkaProducer(bootstrap_servers=target.bootstrap)
    await producer.start()
    try:
        t0 = time.time()
        acked = [
            await baseline.send_all(producer, NOMINATIONS_INBOUND, messages, headers)
            for messages, headers in built
        ]
        elapsed = time.time() - t0
    finally:
        await producer.stop()
    return t0, elapsed, acked, size
