"""`lindung bench ...` commands: measurements for the benchmark report, never pass/fail tests."""

from __future__ import annotations

import asyncio
import json
import platform
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from libs.settings import get_settings
from lindung_cli.runtime_file import read_runtime
from lindung_cli.tables import print_whole

app = typer.Typer(help="Benchmarks.", no_args_is_help=True)
console = Console()
RESULTS = Path("bench/results")


def _database_url(url: str | None) -> str:
    settings = get_settings()
    found = url or settings.database_url or (read_runtime(settings.data_dir) or {}).get("database_url")
    if not found:
        console.print("[red]Give --database-url, set DATABASE_URL, or start `lindung up` first.[/]")
        raise typer.Exit(2)
    return str(found)


@app.command("eventstore")
def eventstore(
    events: Annotated[int, typer.Option(help="Events to append")] = 20_000,
    per_transaction: Annotated[int, typer.Option(help="Events per transaction (a nomination is 2)")] = 2,
    database_url: Annotated[str | None, typer.Option(help="PostgreSQL to measure on")] = None,
) -> None:
    """Append/read rates of Lindung's event store vs the eventsourcing library's recorder; rebuild rate."""
    from lindung_cli.benchmarks.eventstore import as_json, run

    result = asyncio.run(run(_database_url(database_url), events, per_transaction))
    table = Table(title=f"Event store: {events:,} events, {per_transaction} per transaction")
    table.add_column("measure")
    table.add_column("Lindung", justify="right")
    table.add_column("eventsourcing 9.5 (peer)", justify="right")
    table.add_column("ratio", justify="right")
    table.add_row(
        "append events/s",
        f"{result.lindung_append_per_s:,.0f}",
        f"{result.peer_append_per_s:,.0f}",
        f"{result.append_ratio:.2f}",
    )
    table.add_row(
        "read events/s",
        f"{result.lindung_read_per_s:,.0f}",
        f"{result.peer_read_per_s:,.0f}",
        f"{result.lindung_read_per_s / result.peer_read_per_s:.2f}",
    )
    table.add_row("read-model rebuild events/s", f"{result.rebuild_per_s:,.0f}", "-", "-")
    print_whole(console, table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"eventstore-{stamp}.json"
    out.write_text(
        as_json(result).rstrip("}") + f',\n  "machine": "{platform.machine()} {platform.processor()}"\n}}\n'
    )
    console.print(f"written {out}")


def _parse_scale(values: list[str]) -> dict[str, int]:
    scale: dict[str, int] = {}
    for value in values:
        name, _, count = value.partition("=")
        if not count.isdigit() or int(count) < 1:
            raise typer.BadParameter(f"expected SERVICE=N, got {value!r}")
        scale[name] = int(count)
    return scale


@app.command("pipeline")
def pipeline(
    workers: Annotated[
        int, typer.Option(help="Nominations to push through (20,877: a province-year)")
    ] = 20_877,
    programmes: Annotated[
        int,
        typer.Option(
            min=1,
            help="Split the workers into this many programmes, nominated one after another (a long"
            " run as successive programme-years)",
        ),
    ] = 1,
    start: Annotated[
        bool, typer.Option("--start/--running", help="Start a stack of its own, or use the running one")
    ] = False,
    scale: Annotated[
        list[str], typer.Option(help="With --start: instances per service, e.g. enrollment=2")
    ] = [],  # noqa: B006
    compare_scale: Annotated[
        bool, typer.Option(help="Two fresh stacks: 1, then 2 instances of allocation and enrollment")
    ] = False,
    label: Annotated[str | None, typer.Option(help="Name of the run in the report")] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="With --start: run this service (several: comma-separated; every one: all) under"
            " pyinstrument, a text report each in --out"
        ),
    ] = None,
    idle_samples: Annotated[
        int, typer.Option(help="After the run: single nominations posted one at a time (hops at idle)")
    ] = 20,
    timeout_s: Annotated[float, typer.Option(help="Give up waiting after this long")] = 900.0,
    baseline: Annotated[bool, typer.Option(help="Measure the plain-aiokafka broker baseline")] = True,
    bootstrap: Annotated[str | None, typer.Option(help="Broker of a stack without var/runtime.json")] = None,
    database_url: Annotated[str | None, typer.Option(help="Its PostgreSQL")] = None,
    api_key: Annotated[
        str | None, typer.Option(envvar="LINDUNG_API_KEY", help="Province admin API key")
    ] = None,
    out: Annotated[Path, typer.Option(help="Directory for the JSON and PNG")] = RESULTS,
    log_dir: Annotated[
        Path | None, typer.Option(help="With --start: where the services' output goes (default: temp dir)")
    ] = None,
    broker: Annotated[
        str, typer.Option(help="With --start: tansu (in memory) or kafka (Apache Kafka, a KRaft node)")
    ] = "tansu",
) -> None:
    """Nominations → EnrolledAtBPJS through every service: stage rates, events/s, latency (bulk and
    per hop at idle), machine time and SQL per worker, memory, broker baseline."""
    from lindung_cli.benchmarks import pipeline as bench
    from lindung_cli.benchmarks.chart import pipeline_chart
    from lindung_cli.benchmarks.pipeline_report import print_run
    from lindung_cli.benchmarks.target import find_target, with_pids
    from lindung_cli.kafka_broker import KafkaUnavailable

    if programmes > workers:
        raise typer.BadParameter(f"{programmes} programmes for {workers} workers", param_hint="--programmes")
    if broker not in ("tansu", "kafka"):
        raise typer.BadParameter(f"expected tansu or kafka, got {broker!r}", param_hint="--broker")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    settings = get_settings()
    runs: list[dict[str, Any]] = []

    def show(counts: dict[str, int]) -> None:
        console.print(
            " ".join(f"{k} {v:,}" for k, v in counts.items() if v or k in ("validated", "enrolled")),
            highlight=False,
        )

    def measure(target: Any, url: str, name: str | None, broker_start_s: float | None) -> None:
        result = asyncio.run(
            bench.run(
                target,
                url,
                workers,
                label=name or "",
                timeout_s=timeout_s,
                with_baseline=baseline,
                partitions=settings.topic_partitions,
                idle_samples=idle_samples,
                role_prefix=settings.database_role_prefix,
                progress=show,
                programmes=programmes,
            )
        )
        # Which broker carried the run (the baseline was measured on it too) and how long it took
        # to start; its memory is in peak_mib under the same name.
        run = {**result.as_dict(), "broker": {"kind": target.broker, "start_s": broker_start_s}}
        print_run(console, run)
        runs.append(run)

    if compare_scale or start:
        from lindung_cli.benchmarks.stack import own_stack

        scales = (
            [({}, "1 instance each"), ({"allocation": 2, "enrollment": 2}, "2× allocation, 2× enrollment")]
            if compare_scale
            else [(_parse_scale(scale), label)]
        )
        for wanted, name in scales:
            # "{service}": each profiled service's own report (stack.profile_path).
            profile_out = out / f"profile-{{service}}-{stamp}-{len(runs) + 1}.txt" if profile else None
            # The services' output: kept after the stack's scratch directory is gone.
            log = (log_dir or Path(tempfile.gettempdir())) / f"lindung-bench-{stamp}-{len(runs) + 1}.log"
            console.print(
                f"[bold]Starting a stack[/] ({name or wanted or 'one instance each'}; output in {log})..."
            )
            try:
                with own_stack(
                    wanted, profile=profile, profile_out=profile_out, log=log, broker=broker
                ) as stack:
                    started_s = round(stack.broker_start_s, 2)
                    measure(stack.target(), stack.database_url, label or name, started_s)
            except KafkaUnavailable as exc:
                console.print(f"[red]Cannot start Apache Kafka.[/] {exc}.", highlight=False)
                raise typer.Exit(2) from None
            if profile_out:
                for written in sorted(out.glob(profile_out.name.replace("{service}", "*"))):
                    console.print(f"profile written to {written}")
    else:
        found = find_target(settings, bootstrap, api_key)
        url = (
            database_url
            or settings.database_url
            or (read_runtime(settings.data_dir) or {}).get("database_url")
        )
        if found is None or not url:
            console.print(
                "[red]No running stack: start `lindung up`, give --bootstrap and --database-url,"
                " or use --start.[/]"
            )
            raise typer.Exit(2)
        running = read_runtime(settings.data_dir) or {}
        measure(with_pids(found, settings.data_dir), str(url), label, running.get("broker_start_s"))
    out.mkdir(parents=True, exist_ok=True)
    report = out / f"pipeline-{stamp}.json"
    report.write_text(
        json.dumps({"kind": "pipeline", "stamp": stamp, "machine": bench.machine(), "runs": runs}, indent=1)
        + "\n"
    )
    png = pipeline_chart(runs, out / f"pipeline-{stamp}.png")
    console.print(f"written {report} and {png}")
    if not all(r["complete"] for r in runs):
        raise typer.Exit(1)


@app.command("programme-year")
def programme_year(
    programme: Annotated[
        Path, typer.Option(help="A programme file, e.g. docs/examples/sumut-2025.yaml")
    ] = Path("docs/examples/sumut-2025.yaml"),
    scale: Annotated[str, typer.Option(help="Size factor of the file's seats and money, e.g. 1/100")] = "1",
    out: Annotated[Path, typer.Option(help="Directory for the JSON and PNG")] = RESULTS,
    log: Annotated[Path | None, typer.Option(help="Where the services' output goes")] = None,
) -> None:
    """A whole programme year on a fresh stack: nominations (upload, HTTP, topic), decree, BPJS,
    twelve monthly bills with a death, a withdrawal, arrears and ended memberships; the money
    reconciled (billed vs covered worker-months × premium, cap, headroom) and the time per stage."""
    from fractions import Fraction

    from lindung_cli.benchmarks.programme_year import run_bench

    console.print(f"[bold]Starting a stack[/] for a year of {programme} (scale {scale})...")
    result = run_bench(programme, Fraction(scale), out, log=log)
    money = result["money"]
    table = Table(
        title=f"{result['programme']}: {result['workers_enrolled']:,} workers, {result['wall_s']:.0f} s"
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    for key in (
        "budget_cap",
        "quota_cost",
        "quota_headroom",
        "shortfall",
        "billed",
        "paid",
        "expected_billed",
    ):
        table.add_row(f"{key} (Rp)", f"{money[key]:,}")
    table.add_row("covered worker-months", f"{money['covered_worker_months']:,}")
    table.add_row("reconciled / within cap", f"{money['reconciled']} / {money['within_cap']}")
    table.add_row("headroom after the year (Rp)", f"{money['headroom_after_year']:,}")
    for stage, seconds in result["timings_s"].items():
        table.add_row(f"{stage} (s)", f"{seconds:,.1f}")
    print_whole(console, table)
    console.print(f"written {result['json']} and {result['png']}")
    if not (money["reconciled"] and money["within_cap"]):
        raise typer.Exit(1)
