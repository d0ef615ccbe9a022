"""`lindung audit ...`: what an auditor (BPK, an inspectorate) runs, and nothing that changes Lindung.

- `replay` rebuilds read models into a fresh schema (rolled back unless --keep) and compares them;
- `verify`, `checkpoint`, `export`, `beneficiaries`, `coverage` and `quota` read in one READ ONLY
  transaction.

Each command lives in lindung_cli/audit/, one module a job. See docs/audit.md. Exit codes: 0 all
good, 1 a mismatch or a break was found, 2 cannot run.
"""

from __future__ import annotations

import typer

from lindung_cli.audit import checkpoints, export, point_in_time, replay, verify

app = typer.Typer(help="Audits: replay, point in time, hash chains, export.", no_args_is_help=True)
for command in (
    replay.replay,
    verify.verify,
    checkpoints.checkpoint,
    export.export,
    point_in_time.beneficiaries,
    point_in_time.coverage,
    point_in_time.quota,
):
    app.command()(command)
