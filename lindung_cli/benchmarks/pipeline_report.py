"""The printed report of one `lindung bench pipeline` run (its JSON, `PipelineResult.as_dict`):
stage rates, the summary (events per second, pipeline ÷ baseline, latencies, idle hops, load),
machine time, SQL and peak memory per process, and the statements each service ran most."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from lindung_cli.tables import print_whole


def _programmes(run: dict[str, Any]) -> str:
    """The run's programme, or the first and last of its programmes and how many."""
    several = run.get("programmes") or []
    if not several:
        return str(run["programme_code"])
    return f"{len(several)} programmes, {several[0]['code']} … {several[-1]['code']}"


def _stages(console: Console, run: dict[str, Any]) -> None:
    table = Table(title=f"Pipeline: {run['label']} — {run['workers']:,} workers ({_programmes(run)})")
    for name in ("stage", "service"):
        table.add_column(name)
    for name in ("workers", "first s", "last s", "per s"):
        table.add_column(name, justify="right")
    submit = run["submit"]
    table.add_row(
        "submitted",
        "bench → broker",
        f"{run['workers']:,}",
        "0.0",
        f"{submit['seconds']:.1f}",
        f"{submit['per_s'] or 0:,.0f}",
    )
    for s in run["stages"]:
        table.add_row(
            s["stage"],
            s["service"],
            f"{s['count']:,}",
            f"{s['first_s']:.1f}",
            f"{s['last_s']:.1f}",
            f"{s['per_s']:,.0f}",
        )
    print_whole(console, table)


def summary_rows(run: dict[str, Any]) -> list[tuple[str, str]]:
    """(measure, value) lines of the run's summary."""
    rows = [("complete", "yes" if run["complete"] else "[red]no[/]")]
    broker = run["broker"]
    started = f", started in {broker['start_s']:.1f} s" if broker.get("start_s") else ""
    rows.append(("broker", f"{broker['kind']}{started}"))
    rows.append(("enrolled", f"{run['enrolled']:,} of {run['workers']:,}"))
    failures = {k: v for k, v in run["failures"].items() if v}
    rows.append(("failures", ", ".join(f"{k} {v}" for k, v in failures.items()) or "none"))
    for entry in run.get("programmes") or []:
        rows.append(
            (
                f"programme {entry['code']}: enrolled, first → last",
                f"{entry['enrolled']:,} of {entry['workers']:,}, "
                f"{entry['first_enrolled_s'] or 0:.1f} → {entry['last_enrolled_s'] or 0:.1f} s",
            )
        )
    rows.append(("wall time (first sent → last enrolled)", f"{run['wall_s']:.1f} s"))
    rows.append(("pipeline rate", f"{run['pipeline_per_s']:,.1f} workers/s"))
    events = run.get("events") or {}
    if events:
        parts = ", ".join(f"{k} {v:,}" for k, v in events.items() if k != "total")
        rows.append(("events through the stack", f"{events['total']:,} ({parts})"))
        rows.append(("events per second through the stack", f"{run.get('events_per_s', 0):,.0f}"))
    for name, cut in run["latency_s"].items():
        if cut:
            rows.append(
                (f"latency {name.replace('_', ' ')} p50 / p99", f"{cut['p50']:.2f} s / {cut['p99']:.2f} s")
            )
    base = run["baseline"]
    if base:
        rows.append(
            (
                f"broker baseline ({base['messages']:,} × {base['message_bytes']} B)",
                f"{base['per_s']:,.0f} msgs/s",
            )
        )
        rows.append(("pipeline ÷ baseline (workers/s ÷ msgs/s)", f"{run['pipeline_to_baseline']:.4f}"))
        if run.get("events_to_baseline") is not None:
            rows.append(("events/s ÷ baseline msgs/s", f"{run['events_to_baseline']:.4f}"))
    cpu = run.get("machine_time") or {}
    if cpu:
        rows.append(
            (
                "machine time per worker (CPU of every process ÷ workers)",
                f"{cpu['ms_per_worker']:.2f} ms ({cpu['cpu_s']:,.1f} CPU s, {cpu['cores_busy']} cores busy)",
            )
        )
    sql = (run.get("sql") or {}).get("per_worker") or {}
    if sql:
        statements = f"{sql['statements_run']:.1f} statements, " if "statements_run" in sql else ""
        rows.append(
            (
                "SQL per worker (all services)",
                f"{statements}{sql['rows_written']:.1f} rows written, {sql['commits']:.2f} commits",
            )
        )
    hops = (run.get("idle_hops") or {}).get("hops_s") or {}
    for hop, cut in hops.items():
        rows.append(
            (f"idle hop {hop} p50 / p95", f"{cut['p50'] * 1000:,.0f} ms / {cut['p95'] * 1000:,.0f} ms")
        )
    load = run.get("load_avg_1_5_15m") or {}
    if load.get("before"):
        rows.append(
            ("load average 1/5/15 min before → after", f"{load['before']} → {load['after']}".replace("'", ""))
        )
    return rows


def _processes(console: Console, run: dict[str, Any]) -> None:
    cpu = (run.get("machine_time") or {}).get("by_process") or {}
    sql = (run.get("sql") or {}).get("by_service") or {}
    table = Table(title="Per process: machine time, SQL and memory (per worker)")
    table.add_column("process")
    for name in ("CPU s", "CPU ms/worker", "statements/worker", "rows written/worker", "peak MiB"):
        table.add_column(name, justify="right")
    for label in sorted(
        set(cpu) | set(sql) | set(run["peak_mib"]), key=lambda k: -cpu.get(k, {}).get("cpu_s", 0)
    ):
        used = cpu.get(label) or {}
        wrote = (sql.get(label) or {}).get("per_worker") or {}
        table.add_row(
            label,
            f"{used['cpu_s']:,.1f}" if used else "-",
            f"{used['ms_per_worker']:.3f}" if used else "-",
            f"{wrote['statements_run']:.2f}" if "statements_run" in wrote else "-",
            f"{wrote['rows_written']:.2f}" if "rows_written" in wrote else "-",
            f"{run['peak_mib'][label]:,.0f}" if label in run["peak_mib"] else "-",
        )
    whole = run.get("machine_time") or {}
    per_worker = (run.get("sql") or {}).get("per_worker") or {}
    if whole or per_worker:
        table.add_row(
            "[bold]the whole stack[/]",
            f"{whole['cpu_s']:,.1f}" if whole else "-",
            f"{whole['ms_per_worker']:.3f}" if whole else "-",
            f"{per_worker['statements_run']:.2f}" if "statements_run" in per_worker else "-",
            f"{per_worker['rows_written']:.2f}" if "rows_written" in per_worker else "-",
            f"{sum(run['peak_mib'].values()):,.0f}",
        )
    print_whole(console, table)


def _top_statements(console: Console, run: dict[str, Any], most: int = 3) -> None:
    services = (run.get("sql") or {}).get("by_service") or {}
    if not any(entry.get("top_statements") for entry in services.values()):
        return
    table = Table(title=f"Statements each service ran most (per worker; top {most})")
    table.add_column("service")
    table.add_column("per worker", justify="right")
    table.add_column("statement (first 100 characters)")
    for service, entry in services.items():
        for found in (entry.get("top_statements") or [])[:most]:
            share = found["calls"] / run["workers"] if run["workers"] else 0.0
            table.add_row(service, f"{share:.2f}", found["query"][:100])
    print_whole(console, table)


def print_run(console: Console, run: dict[str, Any]) -> None:
    """The stage table, the summary, the table per process and the most-run statements."""
    _stages(console, run)
    summary = Table(show_header=False, title="Summary")
    summary.add_column("")
    summary.add_column("", justify="right")
    for measure, value in summary_rows(run):
        summary.add_row(measure, value)
    print_whole(console, summary)
    _processes(console, run)
    _top_statements(console, run)
