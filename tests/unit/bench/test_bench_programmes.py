"""The pipeline bench's run of several programmes (`--programmes N`): how the workers are split,
the one P3KE extract that lists the workers of every programme, the stage queries' parameters for
the run's set of codes, and what the report adds (only) when there are several."""

from __future__ import annotations

import dataclasses

import pytest
from rich.console import Console

from lindung_cli.benchmarks.pipeline_events import STAGES, params
from lindung_cli.benchmarks.pipeline_report import print_run, summary_rows
from lindung_cli.benchmarks.pipeline_result import programme_entry
from lindung_cli.benchmarks.workload import Workload, p3ke_csv_of, shares
from tests.unit.bench.test_pipeline_report import report_of, result


def test_the_workers_are_split_into_near_equal_programmes() -> None:
    assert shares(126_000, 6) == [21_000] * 6
    assert shares(10, 3) == [4, 3, 3]
    assert shares(240, 1) == [240]
    with pytest.raises(ValueError):
        shares(5, 6)
    with pytest.raises(ValueError):
        shares(5, 0)


def test_one_extract_lists_every_worker_of_every_programme_once() -> None:
    first, second = Workload(7, 30, 2026), Workload(8, 25, 2026)
    rows = p3ke_csv_of((first, second)).decode().splitlines()
    niks = [w.nik for w in (*first.all(), *second.all())]
    assert len(set(niks)) == 55  # the programmes share no worker
    listed = {row.split(",")[0] for row in rows}
    assert set(niks) <= listed
    # A run of one programme imports what it always did.
    assert first.p3ke_csv() == p3ke_csv_of((first,))


def test_the_stage_queries_take_the_runs_codes() -> None:
    validated = next(s for s in STAGES if not s.by_request_id)
    answered = next(s for s in STAGES if s.by_request_id)
    marks = {"registry": 5, "bpjs_simulator": 9}
    one = params(validated, marks, "BENCH-0001")
    assert one == {"start": 5, "codes": ["BENCH-0001"], "request_suffixes": ["%:BENCH-0001"]}
    several = params(answered, marks, ("BENCH-0001", "BENCH-0002"))
    assert several["start"] == 9 and several["codes"] == ["BENCH-0001", "BENCH-0002"]
    assert several["request_suffixes"] == ["%:BENCH-0001", "%:BENCH-0002"]
    assert "= ANY(:codes)" in validated.match() and "LIKE ANY(:request_suffixes)" in answered.match()


def test_the_report_names_the_programmes_only_when_there_are_several() -> None:
    assert "programmes" not in result().as_dict()
    entries = [programme_entry("BENCH-0001", 50, [1.0, 2.5, 2.0]), programme_entry("BENCH-0002", 50, [])]
    assert entries[0] == {
        "code": "BENCH-0001",
        "workers": 50,
        "enrolled": 3,
        "first_enrolled_s": 1.0,
        "last_enrolled_s": 2.5,
    }
    assert entries[1]["enrolled"] == 0 and entries[1]["last_enrolled_s"] is None
    several = dataclasses.replace(result(), programmes=entries)
    assert several.as_dict()["programmes"] == entries
    rows = dict(summary_rows(report_of(several)))
    assert rows["programme BENCH-0001: enrolled, first → last"] == "3 of 50, 1.0 → 2.5 s"
    console = Console(record=True, width=200)
    print_run(console, report_of(several))
    # The title wraps at the table's width.
    printed = " ".join(console.export_text().split())
    assert "100 workers (2 programmes, BENCH-0001 … BENCH-0002)" in printed
