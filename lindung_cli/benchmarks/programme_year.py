"""A programme year, whole, through the real path: the seed tests (tests/integration/seeds) and
`lindung bench programme-year` both drive a running stack with it.

A programme file (docs/examples) is defined through allocation's HTTP API, scaled by a factor when
asked (seats apportioned per sector, money kept exact: the cap's slack or shortfall scaled with the
seats); the P3KE extract is imported through the registry as officers do; workers are nominated
through all three doors (CSV upload, HTTP, and the inbound topic as a regency system); the decree
is signed over HTTP; BPJS (the simulator) registers them; twelve monthly bills are sent on a moving
business clock (LINDUNG_BUSINESS_CLOCK_FILE) with a death, a withdrawal, a lapse paid in arrears
and, when asked, a stretch of unpaid months that ends the membership; claims are pushed as BPJS
pushes them. The run keeps its own books of who should be billed for which month (`Books`), so
the money can be reconciled against what enrollment billed, to the rupiah.
"""

from __future__ import annotations

from lindung_cli.benchmarks.programme_file import (
    add_months,
    cost_per_worker,
    coverage_months,
    first_day,
    programme_yaml,
    read_programme,
    scale_programme,
    seats_of,
)
from lindung_cli.benchmarks.running_stack import WIB, Stack
from lindung_cli.benchmarks.standard_year import Outcome, Plan, run_year
from lindung_cli.benchmarks.year import DOORS, Year, bill_day
from lindung_cli.benchmarks.year_bench import SIGNERS, bench_cast, bench_year, run_bench, year_chart
from lindung_cli.benchmarks.year_books import Books, Member
from lindung_cli.benchmarks.year_people import People, Worker, form, p3ke_rows, upload_csv

# The modules above, by their jobs: programme_file (the programme), year_people (the workers),
# running_stack (the stack), year_books (the run's books), year (the year's actions),
# standard_year (the year the seed tests run), year_bench (`lindung bench programme-year`).
__all__ = [
    "DOORS",
    "SIGNERS",
    "WIB",
    "Books",
    "Member",
    "Outcome",
    "People",
    "Plan",
    "Stack",
    "Worker",
    "Year",
    "add_months",
    "bench_cast",
    "bench_year",
    "bill_day",
    "cost_per_worker",
    "coverage_months",
    "first_day",
    "form",
    "p3ke_rows",
    "programme_yaml",
    "read_programme",
    "run_bench",
    "run_year",
    "scale_programme",
    "seats_of",
    "upload_csv",
    "year_chart",
]
