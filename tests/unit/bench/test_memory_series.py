"""The memory profile a benchmark reports: peaks per tenth of the run tell leveling from leaking."""

from lindung_cli.benchmarks.memory import MemorySeries


def _series(samples: dict[str, list[tuple[float, float]]]) -> MemorySeries:
    series = MemorySeries()
    for label, points in samples.items():
        for at, mib in points:
            series.add(label, at, mib)
    return series


def test_each_tenth_holds_the_peak_of_its_span() -> None:
    flat = [(t, 100.0 + (t % 3)) for t in range(0, 101)]
    leaking = [(t, 50.0 + t) for t in range(0, 101)]
    parts = _series({"flat": flat, "leaking": leaking}).by_part(10)
    assert parts["flat"] == [102.0] * 10
    assert parts["leaking"] == [59.0, 69.0, 79.0, 89.0, 99.0, 109.0, 119.0, 129.0, 139.0, 150.0]


def test_a_process_that_went_early_keeps_zeros_after_it() -> None:
    parts = _series({"gone": [(0.0, 10.0), (1.0, 12.0)], "stays": [(0.0, 5.0), (4.0, 6.0)]}).by_part(4)
    assert parts["gone"] == [10.0, 12.0, 0.0, 0.0]
    assert parts["stays"] == [5.0, 0.0, 0.0, 6.0]
    assert MemorySeries().by_part(3) == {}
