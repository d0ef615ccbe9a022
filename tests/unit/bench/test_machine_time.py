"""The bench's machine time: CPU seconds per process between two instants, interpolated between
the sampler's readings, and the report per worker."""

from __future__ import annotations

import psutil
import pytest

from lindung_cli.benchmarks.cpu import CpuSeries, cpu_once, machine_time, process_seconds


def series() -> CpuSeries:
    found = CpuSeries()
    found.add(100.0, {"registry": 1.0, "postgres": 10.0})
    found.add(101.0, {"registry": 2.0, "postgres": 12.0})
    found.add(103.0, {"registry": 2.5, "postgres": 12.0, "tansu": 0.5})
    return found


def test_a_value_between_readings_is_interpolated_and_outside_them_the_nearest() -> None:
    cpu = series()
    assert cpu.value("registry", 100.5) == pytest.approx(1.5)
    assert cpu.value("registry", 102.0) == pytest.approx(2.25)
    assert cpu.value("registry", 50.0) == 1.0
    assert cpu.value("registry", 500.0) == 2.5
    assert cpu.value("claims", 101.0) is None


def test_time_spent_between_two_instants_per_label() -> None:
    spent = series().between(100.5, 103.0)
    assert spent == pytest.approx({"registry": 1.0, "postgres": 1.0, "tansu": 0.0})


def test_the_report_divides_by_workers_in_ms_and_tells_the_cores_kept_busy() -> None:
    report = machine_time({"registry": 3.0, "postgres": 1.0}, workers=2_000, seconds=8.0)
    assert report["cpu_s"] == 4.0
    assert report["ms_per_worker"] == 2.0
    assert report["cores_busy"] == 0.5
    by_process = report["by_process"]
    assert isinstance(by_process, dict)
    assert list(by_process) == ["registry", "postgres"]  # the busiest first
    assert by_process["registry"] == {"cpu_s": 3.0, "ms_per_worker": 1.5}


def test_no_workers_or_no_time_do_not_divide_by_zero() -> None:
    report = machine_time({"registry": 1.0}, workers=0, seconds=0.0)
    assert report["ms_per_worker"] == 0.0 and report["cores_busy"] is None


def test_this_process_is_read_and_only_grows() -> None:
    me = psutil.Process()
    first = process_seconds(me, tree=True)
    sum(i * i for i in range(200_000))
    assert process_seconds(me, tree=True) >= first > 0
    assert set(cpu_once({"bench": me, "postgres": me})) == {"bench", "postgres"}
