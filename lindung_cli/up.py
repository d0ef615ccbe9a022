"""`lindung up`: the whole system on one machine, each service its own process, stopped cleanly.

Embedded PostgreSQL and a broker are started unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS point
elsewhere: Tansu (in memory, no Java) by default, or Apache Kafka with `--broker kafka` /
LINDUNG_BROKER=kafka (one KRaft node, data kept in <data_dir>/kafka across runs). Ctrl-C or SIGTERM
stops every child, then the embedded servers (the broker's JVM too, also after a failed start).
The stack's processes are lindung_cli/local_stack.py; this module starts it, loads the demo and
says where everything answers.
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.markup import escape

from libs.settings import Settings
from lindung_cli import api
from lindung_cli.local_stack import WIB, Stack, kafka_version
from lindung_cli.service_processes import Child, _die_with_parent, instance_port

# Imported from here by the bench's stack and tests.
__all__ = ["Child", "Stack", "_die_with_parent", "instance_port", "kafka_version", "load_demo", "run_up"]

DEV_MODE_NOTICE = (
    "[yellow]Development mode (LINDUNG_DEV_MODE=true)[/]: the services run open where production "
    "refuses to start (no API keys: every caller is province admin; the development pepper; "
    "development event keys). For production use docker-compose.yml (docs/security.md, "
    '"Production checklist").'
)


def load_demo(stack: Stack, url_of: Callable[[str], str]) -> dict[str, Any]:
    """Define the demo programme and import the demo P3KE extract (idempotent)."""
    from lindung_cli.demo_programme import demo_programme_path, p3ke_extract

    with api.client(timeout=60.0) as client:
        answer = client.post(
            f"{url_of('allocation')}/programmes",
            content=demo_programme_path().read_bytes(),
            headers={"content-type": "application/yaml"},
        )
        if answer.status_code not in (201, 409):
            raise RuntimeError(f"demo programme refused: {answer.status_code} {answer.text}")
        deadline = time.monotonic() + 30
        while not any(
            p["programme_code"] == "DEMO-SUMUT-2026"
            for p in client.get(f"{url_of('registry')}/programmes").json()
        ):
            if time.monotonic() > deadline:
                raise TimeoutError("the registry did not learn the demo programme")
            time.sleep(0.2)
        current = {r["kind"]: r for r in client.get(f"{url_of('registry')}/reference").json()}
        if "p3ke" in current:
            # A restart keeps whatever extract is loaded (perhaps a real one): importing the demo
            # extract again would replace it and re-validate pending nominations.
            kept: dict[str, Any] = current["p3ke"]
            return kept
        reference = client.post(
            f"{url_of('registry')}/reference/p3ke", content=p3ke_extract(seed=2026, workers=2000)
        )
        reference.raise_for_status()
        result: dict[str, Any] = reference.json()
        return result


def run_up(settings: Settings, scale: dict[str, int], demo: bool) -> None:
    """Start everything, print the addresses, and stop everything on Ctrl-C or SIGTERM."""
    stack = Stack(settings, scale)
    # Java or Maven missing: KafkaUnavailable for the caller to explain, before anything starts.
    stack.check_broker()

    def on_sigterm(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    # Ctrl-C stops the stack even when `lindung up` was started with SIGINT ignored (a shell
    # script's background job, `nohup ... &`): Python keeps an inherited "ignore", and the
    # services, broker and database would then outlive the Ctrl-C meant for them.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        calendar = stack.demo_calendar(datetime.now(WIB).date()) if demo else None
        stack.start_servers()
        stack.prepare()
        stack.spawn_all()
        stack.wait_ready()
        stack.write_runtime()
        first = {c.service: f"http://127.0.0.1:{c.port}" for c in stack.children if c.index == 0}
        if demo:
            loaded = load_demo(stack, lambda s: first[s])
            stack.console.print(
                f"[bold]Demo data loaded[/]: programme DEMO-SUMUT-2026, P3KE {loaded['version']}"
            )
        stack.console.print("[bold green]Lindung is up.[/]")
        stack.console.print(DEV_MODE_NOTICE)
        if calendar is not None:
            stack.console.print(
                f"[bold]The demo lives on {calendar.isoformat()}[/], a day of its programme year "
                f"({escape(str(stack.calendar_file))}; LINDUNG_BUSINESS_CLOCK_FILE sets another)."
            )
        if stack.keyring_file is not None:
            where = escape(str(stack.keyring_file.parent))
            stack.console.print(
                f"[bold]Events are signed[/] with development keys in {where} (one per service, bpjs and "
                "each regency system; keyring.json): every service verifies what it reads.",
                highlight=False,
            )
        for name, url in first.items():
            where = f"{url}/" if name == "dashboard" else f"{url}/docs"
            stack.console.print(f"  {name:<16} {where}")
        stack.console.print("Stop with Ctrl-C.")
        stack.watch()
    except KeyboardInterrupt:
        stack.console.print("[bold]Stopping...[/]")
    finally:
        # A second Ctrl-C (people press it twice) must not interrupt the stop half-way and leave
        # processes behind with a traceback on the screen.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        stack.console.print("[bold]Lindung stopped.[/]")
