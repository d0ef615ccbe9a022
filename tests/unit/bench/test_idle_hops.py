"""Per-hop latency at idle: each hop from the stage before (the first from the post), and the
percentiles of each over the samples."""

from __future__ import annotations

import pytest

from lindung_cli.benchmarks.idle_hops import HOPS, hop_times, summarise
from lindung_cli.benchmarks.pipeline_result import percentiles

STAGES_AT = {"validated": 10.2, "assigned": 10.5, "requested": 10.6, "answered": 10.9, "enrolled": 11.0}


def test_the_hops_follow_the_stages_in_order() -> None:
    assert HOPS == (
        "posted→validated",
        "validated→assigned",
        "assigned→requested",
        "requested→answered",
        "answered→enrolled",
    )


def test_each_hop_is_from_the_stage_before_and_the_whole_from_the_post() -> None:
    hops = hop_times(10.0, STAGES_AT)
    assert hops == pytest.approx(
        {
            "posted→validated": 0.2,
            "validated→assigned": 0.3,
            "assigned→requested": 0.1,
            "requested→answered": 0.3,
            "answered→enrolled": 0.1,
            "posted→enrolled": 1.0,
        }
    )


def test_a_missing_stage_leaves_out_the_hops_that_touch_it() -> None:
    hops = hop_times(10.0, {k: v for k, v in STAGES_AT.items() if k not in ("answered", "enrolled")})
    assert set(hops) == {"posted→validated", "validated→assigned", "assigned→requested"}


def test_the_summary_gives_p50_and_p95_per_hop_in_the_pipelines_order() -> None:
    samples = [hop_times(10.0, {k: v + i / 100 for k, v in STAGES_AT.items()}) for i in range(21)]
    summary = summarise(samples)
    assert list(summary) == [*HOPS, "posted→enrolled"]
    assert summary["posted→enrolled"]["p50"] == pytest.approx(1.1)
    assert summary["posted→enrolled"]["p95"] == pytest.approx(1.19)
    assert summary["validated→assigned"]["max"] == pytest.approx(0.3)


def test_percentiles_of_one_value_and_of_none() -> None:
    assert percentiles([0.5], (50, 95)) == {"p50": 0.5, "p95": 0.5, "max": 0.5, "mean": 0.5}
    assert percentiles([]) == {}
