"""The heap trimmer: trims when enough lies free inside the heap, not otherwise."""

from __future__ import annotations

import asyncio

from libs.runtime.heap import HeapTrimmer, glibc_heap, scheduled_trimming

MIB = 1024 * 1024


class _FakeHeap:
    """A heap whose free bytes a test sets, recording the trims asked of it."""

    def __init__(self, free: int) -> None:
        self.free = free
        self.pads: list[int] = []

    def trim(self, pad: int) -> int:
        self.pads.append(pad)
        self.free = 0
        return 1

    def free_bytes(self) -> int:
        return self.free


def test_it_trims_when_enough_lies_free() -> None:
    heap = _FakeHeap(free=9 * MIB)
    trimmer = HeapTrimmer((heap.trim, heap.free_bytes), min_free_bytes=8 * MIB)

    assert trimmer.trim_if_due()
    assert heap.pads == [0]
    assert trimmer.trims == 1


def test_it_does_not_trim_below_the_threshold_nor_again_once_trimmed() -> None:
    heap = _FakeHeap(free=8 * MIB - 1)
    trimmer = HeapTrimmer((heap.trim, heap.free_bytes), min_free_bytes=8 * MIB)

    assert not trimmer.trim_if_due()
    heap.free = 8 * MIB
    assert trimmer.trim_if_due()
    assert not trimmer.trim_if_due()  # the trim gave it back: nothing free any more
    assert heap.pads == [0]
    assert trimmer.trims == 1


def test_no_loop_when_off_or_without_glibc() -> None:
    heap = _FakeHeap(free=0)
    assert scheduled_trimming("svc", 0, 8, (heap.trim, heap.free_bytes)) is None
    assert scheduled_trimming("svc", 5, 8, None) is None


def test_the_loop_trims_a_heap_with_enough_free() -> None:
    heap = _FakeHeap(free=64 * MIB)
    loop = scheduled_trimming("svc", 0.001, 8, (heap.trim, heap.free_bytes))
    assert loop is not None

    async def until_trimmed() -> None:
        task = asyncio.ensure_future(loop)
        while not heap.pads:
            await asyncio.sleep(0.001)
        task.cancel()

    asyncio.run(until_trimmed())
    assert heap.pads == [0]


def test_this_glibc_answers_or_there_is_none() -> None:
    heap = glibc_heap()
    if heap is not None:  # glibc 2.33+: its answers are numbers (a trim frees or not)
        trim, free_bytes = heap
        assert free_bytes() >= 0
        assert trim(0) in (0, 1)
