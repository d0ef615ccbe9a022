"""`lindung audit ...`: what an auditor (BPK, an inspectorate) runs, and nothing that changes Lindung.

- `replay` rebuilds read models into a fresh schema (rolled back unless --keep) and compares them;
- `verify`, `export`, `beneficiaries`, `coverage` and `quota` read in one READ ONLY transaction.

See docs/audit.md. Exit codes: 0 all good, 1 a mismatch or a break was found, 2 cannot run.
"""

from __future__ import annotations

import asyncio
import importlib
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table as RichTable
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.signing import load_keyring
from libs.messaging.connection import KafkaConnection
from libs.settings import get_settings
from lindung_cli.tables import print_whole

app = typer.Typer(help="Audits: replay, point in time, hash chains, export.", no_args_is_help=True)
console = Console()
T = TypeVar("T")

SERVICE_HELP = "registry, allocation, enrollment, claims, bpjs_simulator, or all"


class RichProgress:
    """libs.audit's Progress on a Rich progress bar."""

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task: TaskID | None = None

    def start(self, description: str, total: int | None) -> None:
        self.finish()
        self.task = self.bar.add_task(description, total=total)

    def advance(self, steps: int = 1) -> None:
        if self.task is not None:
            self.bar.advance(self.task, steps)

    def finish(self) -> None:
        if self.task is not None:
            task = self.bar.tasks[self.task]
            self.bar.update(self.task, total=task.completed if task.total is None else task.total)
            self.bar.update(self.task, completed=task.total)
            self.task = None


def _bar() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _database_url(read_only: bool = False) -> str:
    """Where the audit reads: LINDUNG_AUDIT_DATABASE_URL (a SELECT-only role) for what only
    reads, else DATABASE_URL, else the running `lindung up`'s database."""
    from lindung_cli.runtime_file import read_runtime

    settings = get_settings()
    chosen = settings.audit_database_url if read_only else None
    url = chosen or settings.database_url or (read_runtime(settings.data_dir) or {}).get("database_url")
    if not url:
        console.print("[red]Set DATABASE_URL, or start `lindung up` first.[/]")
        raise typer.Exit(2)
    return str(url)


def _keyring_file() -> Path | None:
    """LINDUNG_EVENT_KEYRING_FILE, else the development keyring of a running `lindung up`."""
    from libs.events.signing import DEV_KEYRING
    from lindung_cli.runtime_file import read_runtime

    settings = get_settings()
    if settings.event_keyring_file:
        return Path(settings.event_keyring_file)
    keys = (read_runtime(settings.data_dir) or {}).get("event_keys")
    return Path(keys) / DEV_KEYRING if keys else None


def _bootstrap() -> KafkaConnection:
    from lindung_cli.runtime_file import read_runtime

    settings = get_settings()
    servers = settings.kafka_bootstrap_servers or (read_runtime(settings.data_dir) or {}).get(
        "kafka_bootstrap_servers"
    )
    if not servers:
        console.print("[red]Set KAFKA_BOOTSTRAP_SERVERS, or start `lindung up` first.[/]")
        raise typer.Exit(2)
    return KafkaConnection.from_settings(settings, bootstrap=str(servers))


def _services() -> tuple[str, ...]:
    from libs.runtime.migrate import SERVICES_WITH_SCHEMAS

    return SERVICES_WITH_SCHEMAS


def _definition(service: str) -> Any:
    return importlib.import_module(f"services.{service}.entrypoints.app").definition()


def _declared_read_models(service: str) -> Sequence[Table] | None:
    """A service's READ_MODELS when its tables module lists them (registry keeps reference data)."""
    declared = getattr(importlib.import_module(f"services.{service}.adapters.tables"), "READ_MODELS", None)
    return tuple(declared) if declared is not None else None


def _parse_instant(value: str | None) -> datetime | None:
    """ISO timestamp (no offset: WIB) or a date (its last instant in WIB)."""
    from libs.audit.history import WIB, end_of_day

    if value is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return end_of_day(date.fromisoformat(value))
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected YYYY-MM-DD or an ISO timestamp, got {value!r}") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=WIB)


def _run(coro: Awaitable[T]) -> T:
    """Run one command's work; a database that cannot be reached or read is exit code 2."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except (SQLAlchemyError, OSError) as exc:
        console.print(f"[red]cannot run the audit: {type(exc).__name__}: {str(exc).splitlines()[0]}[/]")
        raise typer.Exit(2) from None


async def _read_only(work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    from libs.audit.session import read_only
    from libs.db import make_engine

    engine = make_engine(_database_url(read_only=True), pool_size=1)
    try:
        async with read_only(engine) as conn:
            return await work(conn)
    finally:
        await engine.dispose()


# --- replay ------------------------------------------------------------------------------------


@app.command()
def replay(
    service: Annotated[str, typer.Argument(help=SERVICE_HELP)],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Only what was applied by then (date or timestamp)")
    ] = None,
    source: Annotated[str, typer.Option(help="store (events + inbox) or kafka (topics)")] = "store",
    keep: Annotated[bool, typer.Option(help="Keep the rebuilt schema instead of dropping it")] = False,
    consumed_order: Annotated[
        str,
        typer.Option(help="kafka: which consumed envelopes were applied, in which order: inbox or handler"),
    ] = "inbox",
) -> None:
    """Rebuild a service's read models from its log in a fresh schema; compare them with the live ones."""
    names = _services() if service == "all" else (service,)
    if any(n not in _services() for n in names):
        raise typer.BadParameter(f"unknown service {service!r} ({SERVICE_HELP})")
    if source not in ("store", "kafka"):
        raise typer.BadParameter("--source is store or kafka")
    if consumed_order not in ("inbox", "handler"):
        raise typer.BadParameter("--consumed-order is inbox or handler")
    instant = _parse_instant(as_of)
    bootstrap = _bootstrap() if source == "kafka" else None
    raise typer.Exit(_run(_replay_all(names, source, instant, keep, bootstrap, consumed_order)))


async def _replay_all(
    names: Sequence[str],
    source: str,
    as_of: datetime | None,
    keep: bool,
    bootstrap: KafkaConnection | None,
    consumed_order: str = "inbox",
) -> int:
    """0: every table matches; 1: a mismatch, or an event the projectors cannot apply; 2: cannot run."""
    from libs.audit.replay import ReplayError
    from libs.audit.replay import replay as run_replay
    from libs.db import make_engine
    from libs.privacy.vault import operator_vault

    engine = make_engine(_database_url(), pool_size=2)
    code = 0
    try:
        for name in names:
            with _bar() as bar:
                try:
                    report = await run_replay(
                        engine,
                        _definition(name),
                        source="kafka" if source == "kafka" else "store",
                        as_of=as_of,
                        keep=keep,
                        bootstrap=bootstrap,
                        read_models=_declared_read_models(name),
                        consumed_order="handler" if consumed_order == "handler" else "inbox",
                        progress=RichProgress(bar),
                        # Signed events: from Kafka, only what the keyring proves (as the consumers).
                        keyring=load_keyring(get_settings().event_keyring_file),
                        # Sealed personal fields opened as the services open them (docs/security.md).
                        vault=operator_vault(get_settings()),
                    )
                except ReplayError as exc:
                    console.print(f"[red]{name}: the log does not replay: {exc}[/]")
                    code = max(code, 1)
                    continue
                except (ValueError, TimeoutError) as exc:
                    console.print(f"[red]{name}: {exc}[/]")
                    code = 2
                    continue
            _print_replay(report)
            code = max(code, 0 if report.matches else 1)
    finally:
        await engine.dispose()
    return code


def _print_replay(report: Any) -> None:
    if report.compared and not report.tables:
        for note in report.notes:
            console.print(f"  note: {note}")
        console.print(f"  {report.service}: nothing to rebuild")
        return
    table = RichTable(title=f"{report.service}: replay from {report.source} into {report.fresh_schema}")
    if report.compared:
        for column in ("table", "live rows", "replay rows", "live hash", "replay hash", "result"):
            table.add_column(column, justify="right" if "rows" in column else "left")
        for t in report.tables:
            table.add_row(
                t.table,
                str(t.live_rows),
                str(t.replay_rows),
                t.live_hash[:16],
                t.replay_hash[:16],
                "[green]match[/]" if t.matches else f"[red]MISMATCH[/] ({t.differing_rows} rows)",
            )
    else:
        for column in ("table", "rows", "content hash"):
            table.add_column(column)
        for name, (rows, digest) in report.rebuilt.items():
            table.add_row(name, str(rows), digest[:16])
    console.print(table)
    for t in report.tables:
        if t.volatile:
            console.print(f"  {t.table}: volatile columns left out of the hash: {', '.join(t.volatile)}")
        if t.first_difference is not None:
            console.print(f"  [red]{t.table}: first differing row {t.first_difference.describe()}[/]")
    for note in report.notes:
        console.print(f"  note: {note}")
    console.print(
        f"  applied {report.own_events} own events + {report.consumed_envelopes} consumed envelopes "
        f"in {report.seconds:.2f} s ({report.events_per_second:,.0f} events/s); "
        + (f"schema {report.fresh_schema} kept" if report.kept else "rebuilt schema dropped")
    )
    if report.compared:
        verdict = "[green]matches the live read models[/]" if report.matches else "[red]DOES NOT MATCH[/]"
        console.print(f"  {report.service}: {verdict}")


# --- verify ------------------------------------------------------------------------------------


@app.command()
def verify(
    schema: Annotated[
        list[str] | None, typer.Option("--schema", help="Only these schemas (default: every event store)")
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            help="Signed checkpoints to check the stores against (default: LINDUNG_AUDIT_CHECKPOINT_DIR)"
        ),
    ] = None,
    keyring: Annotated[
        Path | None,
        typer.Option(
            help="Public keys the checkpoints are verified with (default: LINDUNG_EVENT_KEYRING_FILE)"
        ),
    ] = None,
    from_topic: Annotated[
        bool, typer.Option(help="Read the checkpoints from lindung.audit.checkpoints.v1 instead of files")
    ] = False,
) -> None:
    """Walk every stream's hash chain in every service schema, and check every head the signed
    checkpoints recorded is still there unchanged; exit 1 on any break or change."""
    from libs.audit.chain import event_store_schemas, verify_chains
    from libs.audit.checkpoint_store import (
        checkpoint_dir,
        checkpoint_lines,
        current_database,
        load_checkpoints,
        topic_lines,
        verify_against,
    )
    from libs.events import topics
    from libs.events.signing import Keyring

    settings = get_settings()
    directory = checkpoints or checkpoint_dir(settings)
    if from_topic:
        target = _bootstrap()
        directory = Path(topics.AUDIT_CHECKPOINTS)  # named as where they came from
        lines = _run(topic_lines(target))
        if keyring is None and _keyring_file() is None:
            console.print(
                "[red]Checkpoints from the topic need the keyring that verifies them (--keyring).[/]"
            )
            raise typer.Exit(2)
    else:
        lines = checkpoint_lines(directory)
    keyring_path = keyring or _keyring_file()
    if lines and keyring_path is None:
        if checkpoints is not None:
            console.print(
                f"[red]{directory} holds checkpoints: give the keyring that verifies them (--keyring).[/]"
            )
            raise typer.Exit(2)
        # Development (no keyring configured): said, not failed; production services require one.
        console.print(
            f"[yellow]{len(lines)} checkpoints in {directory} not checked: no keyring[/]", soft_wrap=True
        )
        lines = []
    trusted = Keyring.load(keyring_path) if lines and keyring_path is not None else None

    async def work(conn: AsyncConnection) -> Any:
        with _bar() as bar:
            report = await verify_chains(conn, schema or None, RichProgress(bar))
        if trusted is None:
            return report, None, None
        loaded = load_checkpoints(lines, trusted, await current_database(conn))
        anchor = await verify_against(conn, loaded, await event_store_schemas(conn), schema or None)
        return report, loaded, anchor

    report, loaded, anchor = _run(_read_only(work))
    table = RichTable(title="Hash chains")
    for column in ("schema", "streams", "events", "copies checked", "breaks"):
        table.add_column(column, justify="left" if column == "schema" else "right")
    for name, events in report.events.items():
        breaks = sum(1 for b in report.breaks if b.schema == name)
        table.add_row(
            name,
            str(report.streams[name]),
            str(events),
            str(report.copies.get(name, 0)),
            f"[red]{breaks}[/]" if breaks else "0",
        )
    console.print(table)
    for found in report.breaks[:100]:
        console.print(f"[red]BREAK[/] {found.describe()}")
    if len(report.breaks) > 100:
        console.print(f"... and {len(report.breaks) - 100} more")
    console.print("[green]every chain verifies[/]" if report.ok else f"[red]{len(report.breaks)} breaks[/]")
    anchored = _print_anchor(directory, loaded, anchor)
    raise typer.Exit(0 if report.ok and anchored else 1)


def _print_anchor(directory: Path, loaded: Any, anchor: Any) -> bool:
    """The checkpoint part of `verify`; True when nothing was found against the stores."""
    if anchor is None:
        console.print(f"no checkpoints in {directory}: the chains alone were checked")
        return True
    table = RichTable(title=f"Checkpoints ({directory})")
    for column in ("schema", "checkpoints", "heads checked", "last checkpoint", "changed streams"):
        table.add_column(column, justify="left" if column in ("schema", "last checkpoint") else "right")
    changed = anchor.changed_streams()
    for name, count in anchor.checkpoints.items():
        streams = len(changed.get(name, []))
        table.add_row(
            name,
            str(count),
            str(anchor.heads[name]),
            anchor.last[name].taken_at.isoformat(timespec="seconds"),
            f"[red]{streams}[/]" if streams else "0",
        )
    print_whole(console, table)
    if loaded.other_databases:
        console.print(f"  {loaded.other_databases} checkpoints of other databases left aside")
    for change in anchor.changes[:100]:
        console.print(
            f"[red]CHANGED[/] {change.store} stream {change.stream!r}: {change.describe()}", soft_wrap=True
        )
    for name, streams in changed.items():
        console.print(f"[red]changed after a checkpoint[/] in {name}: {', '.join(streams)}", soft_wrap=True)
    for refused in anchor.refused:
        console.print(f"[red]CHECKPOINT REFUSED[/] {refused}", soft_wrap=True)
    for problem in anchor.inconsistent:
        console.print(f"[red]CHECKPOINTS INCOMPLETE[/] {problem}", soft_wrap=True)
    if anchor.ok:
        console.print("[green]every checkpointed head is unchanged[/]")
    return bool(anchor.ok)


@app.command()
def checkpoint(
    schema: Annotated[
        list[str] | None, typer.Option("--schema", help="Only these schemas (default: every event store)")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Directory of the checkpoint files (default: LINDUNG_AUDIT_CHECKPOINT_DIR)"),
    ] = None,
    key_file: Annotated[
        Path | None, typer.Option(help="Ed25519 private key (default: LINDUNG_EVENT_SIGNING_KEY_FILE)")
    ] = None,
    key_id: Annotated[
        str | None, typer.Option(help="Its keyring id (default: LINDUNG_EVENT_SIGNING_KEY_ID)")
    ] = None,
    producer: Annotated[
        str, typer.Option(help="Who signs: the producer the key speaks for in the keyring")
    ] = "auditor",
) -> None:
    """Take a signed checkpoint of every stream's head now, appended to the checkpoint files."""
    from libs.audit.chain import event_store_schemas
    from libs.audit.checkpoint import Checkpointer
    from libs.audit.checkpoint_store import append_line, checkpoint_dir, current_database, take
    from libs.events.signing import load_signer

    settings = get_settings()
    chosen_file = str(key_file) if key_file else settings.event_signing_key_file
    try:
        signer = load_signer(chosen_file, key_id or settings.event_signing_key_id)
    except (OSError, ValueError) as exc:
        console.print(f"[red]cannot load the signing key: {exc}[/]")
        raise typer.Exit(2) from None
    if signer is None:
        console.print("[red]A checkpoint is signed: give --key-file and --key-id.[/]")
        raise typer.Exit(2)
    directory = out or checkpoint_dir(settings)

    async def work(conn: AsyncConnection) -> Any:
        database = await current_database(conn)
        taken = []
        for store in schema or await event_store_schemas(conn):
            taken.append(await take(conn, Checkpointer(database, store, producer), signer))
        return taken

    table = RichTable(title=f"Checkpoints appended to {directory}")
    for column in ("schema", "streams", "root", "checkpoint"):
        table.add_column(column)
    for taken, signed in _run(_read_only(work)):
        append_line(directory, taken.store, signed)
        table.add_row(taken.store, str(taken.streams), taken.root[:16], taken.checkpoint_id)
    print_whole(console, table)


# --- export ------------------------------------------------------------------------------------


@app.command()
def export(
    regency: Annotated[str, typer.Option(help="Kemendagri code, e.g. 12.17")],
    year: Annotated[int, typer.Option(help="Fiscal (calendar) year of occurred_at, WIB")],
    out: Annotated[Path | None, typer.Option(help="Directory (default: audit-export-REGENCY-YEAR)")] = None,
    unmasked: Annotated[
        bool,
        typer.Option(
            "--unmasked",
            help="Clear NIKs, names, birth dates, places (logged, named in the manifest); default: "
            "masked, line hashes then not recomputable from the envelopes",
        ),
    ] = False,
) -> None:
    """Export the events concerning a regency and year as JSON Lines with a manifest (masked
    personal data unless --unmasked; files 0600)."""
    from libs.audit.export import export_regency_year
    from libs.privacy.vault import operator_vault

    if not re.fullmatch(r"12\.\d{2}", regency):
        raise typer.BadParameter(f"expected a North Sumatra regency code like 12.17, got {regency!r}")
    directory = out or Path(f"audit-export-{regency}-{year}")

    async def work(conn: AsyncConnection) -> Any:
        with _bar() as bar:
            return await export_regency_year(
                conn,
                regency=regency,
                year=year,
                out_dir=directory,
                progress=RichProgress(bar),
                mask_personal_data=not unmasked,
                vault=operator_vault(get_settings()),  # personal fields opened before masking
            )

    if unmasked:
        console.print("[bold red]Unmasked export[/]: personal data in clear; recorded in the manifest.")
    result = _run(_read_only(work))
    table = RichTable(title=f"Export of regency {regency}, {year} in {directory}")
    for column in ("file", "events", "sha256"):
        table.add_column(column)
    for f in result.files:
        table.add_row(f.name, str(f.events), f.sha256)
    console.print(table)
    console.print(f"{result.total} events; manifest.json and SHA256SUMS written (sha256sum -c SHA256SUMS)")


# --- point in time -----------------------------------------------------------------------------


def _events_table(service: str) -> Table:
    events: Table = _definition(service).tables.events
    return events


@app.command()
def beneficiaries(
    programme: Annotated[str, typer.Argument(help="Programme code, e.g. SUMUT-2025")],
    on: Annotated[str | None, typer.Option(help="The list at the end of this day (WIB) or instant")] = None,
    list_out: Annotated[Path | None, typer.Option(help="Write the canonical list to this file")] = None,
    decrees: Annotated[bool, typer.Option(help="Check every decree's frozen list")] = False,
) -> None:
    """The beneficiary list as it stood at an instant, from allocation's events; decrees checked."""
    from libs.audit.beneficiaries import (
        ALLOCATION_TYPES,
        beneficiaries,
        canonical_list,
        decree_checks,
        list_sha256,
    )
    from libs.audit.history import events_until

    instant = _parse_instant(on)
    table = _events_table("allocation")

    async def work(conn: AsyncConnection) -> Any:
        return await events_until(conn, table, types=ALLOCATION_TYPES, until=instant)

    envelopes = _run(_read_only(work))
    listed = beneficiaries(envelopes, programme)
    when = instant.isoformat() if instant else "now"
    console.print(f"{programme} as of {when}: {len(listed)} beneficiaries, list sha256 {list_sha256(listed)}")
    if list_out is not None:
        list_out.write_bytes(canonical_list(listed))
        console.print(f"canonical list written to {list_out} (check: sha256sum {list_out})")
    ok = True
    if decrees:
        checks = decree_checks(envelopes, programme)
        if not checks:
            console.print("no decree (DecreeIssued) recorded for this programme")
        for check in checks:
            verdict = "[green]matches[/]" if check.matches else "[red]DIFFERS[/]"
            console.print(
                f"decree {check.decree_number} v{check.decree_version} of {check.decree_date}: {verdict} "
                f"(recorded {check.recorded_count} / {check.recorded_sha256[:16]}, "
                f"from events {check.computed_count} / {check.computed_sha256[:16]})"
            )
            ok = ok and check.matches
    raise typer.Exit(0 if ok else 1)


@app.command()
def coverage(
    on: Annotated[str, typer.Option(help="The day in question, YYYY-MM-DD")],
    worker_id: Annotated[str | None, typer.Option(help="The worker id")] = None,
    nik: Annotated[str | None, typer.Option(help="Or the NIK (turned into the worker id)")] = None,
    known_at: Annotated[
        str | None, typer.Option(help="What was known by then (default: the end of that day, WIB)")
    ] = None,
) -> None:
    """Whether a worker was covered on a day, from enrollment's events as known at an instant."""
    from libs.audit.coverage import ENROLLMENT_TYPES, coverage_on, window_rule
    from libs.audit.history import WIB, events_until
    from libs.identity import worker_id_for
    from libs.pii import mask_nik

    if (worker_id is None) == (nik is None):
        raise typer.BadParameter("give either --worker-id or --nik")
    day = date.fromisoformat(on)
    who = worker_id or worker_id_for(nik or "", get_settings().nik_pepper)
    instant = _parse_instant(known_at) or _parse_instant(on)
    table = _events_table("enrollment")

    async def work(conn: AsyncConnection) -> Any:
        return await events_until(conn, table, types=ENROLLMENT_TYPES, until=instant)

    rule = _enrollment_rule(instant.astimezone(WIB).date() if instant else None)
    if rule is None:
        console.print("note: enrollment's coverage rule is not in this build: window and lapses only")
    verdict = coverage_on(_run(_read_only(work)), who, day, rule or window_rule)
    label = mask_nik(nik) if nik else who
    state = "[green]COVERED[/]" if verdict.covered else "[red]NOT COVERED[/]"
    known = instant.isoformat() if instant else "-"
    console.print(f"{label} on {day}: {state} ({verdict.reason}), as known at {known}")
    if verdict.enrollment is not None:
        e = verdict.enrollment
        console.print(
            f"  programme {e.programme_code}, KPJ {e.kpj}, window {e.coverage_start}..{e.coverage_end}, "
            f"enrolled on {e.enrolled_on}"
            + (f", last covered day before a lapse {e.lapsed_on}" if e.lapsed_on else "")
        )
    if verdict.failed_programmes:
        console.print(f"  enrollment failed under {', '.join(verdict.failed_programmes)}")


def _enrollment_rule(known_at: date | None) -> Any:
    """Enrollment's own coverage rule (its domain's ledger: paid months, grace, lapses), judging
    the facts libs.audit read from the events; None when this build's enrollment has none."""
    try:
        from services.enrollment.application.config import config_from
        from services.enrollment.domain import coverage as domain
        from services.enrollment.domain.months import YearMonth

        policy = config_from(get_settings()).coverage
    except (ImportError, AttributeError):
        return None

    def rule(enrollment: Any, day: date) -> tuple[bool, str]:
        facts: list[Any] = [
            domain.Enrollment(enrollment.enrolled_on, enrollment.coverage_start, enrollment.coverage_end)
        ]
        facts += [domain.PremiumPayment(YearMonth.parse(p.month), p.paid_on) for p in enrollment.payments]
        facts += [
            domain.Lapse(YearMonth.parse(lapse.month_unpaid), lapse.last_day, lapse.recorded_on)
            for lapse in enrollment.lapses
        ]
        answer = domain.CoverageLedger.from_facts(facts).is_covered(day, policy, known_at=known_at)
        return answer.covered, answer.reason.value

    return rule


@app.command()
def quota(
    programme: Annotated[str, typer.Argument(help="Programme code")],
    month: Annotated[str, typer.Option(help="YYYY-MM: the position at that month's end (WIB)")],
) -> None:
    """Quota use per regency × sector and the budget position at a month end, from allocation's events."""
    from libs.audit.beneficiaries import ALLOCATION_TYPES
    from libs.audit.history import end_of_month, events_until
    from libs.audit.quota import quota_position

    match = re.fullmatch(r"(\d{4})-(\d{2})", month)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise typer.BadParameter(f"expected YYYY-MM, got {month!r}")
    instant = end_of_month(int(match.group(1)), int(match.group(2)))
    table = _events_table("allocation")

    async def work(conn: AsyncConnection) -> Any:
        return await events_until(conn, table, types=ALLOCATION_TYPES, until=instant)

    position = quota_position(_run(_read_only(work)), programme, instant)
    if position is None:
        console.print(f"[red]{programme} was not defined by {instant.isoformat()}[/]")
        raise typer.Exit(1)
    cells = RichTable(title=f"{programme} at {instant.isoformat()}")
    for column in ("regency", "sector", "seats", "assigned"):
        cells.add_column(column, justify="right" if column in ("seats", "assigned") else "left")
    for (regency, sector), cell in sorted(position.cells.items()):
        cells.add_row(regency, sector, str(cell.seats), str(cell.assigned))
    console.print(cells)
    console.print(
        f"seats {position.seats_total}, assigned {position.assigned}, waitlisted {position.waitlisted}; "
        f"cap Rp{position.budget_cap:,}, cost per worker Rp{position.cost_per_worker:,}, "
        f"committed Rp{position.committed_rupiah:,}, headroom Rp{position.headroom:,}"
        + (f", OVERCOMMITTED Rp{position.overcommitted:,}" if position.overcommitted else "")
    )
