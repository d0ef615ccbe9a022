"""Demo data, by the names `lindung up`, `lindung demo`, the benchmarks and the tests import: the
demo programme and its P3KE extract (demo_programme.py), the province-year generator
(demo_province.py) and the names and spreadsheet styles of generated people (demo_names.py).

The full province-year generator (`lindung demo generate`) grows from the demo programme; the
example worker is the one the README's curl command nominates.
"""

from __future__ import annotations

from lindung_cli.demo_names import (
    FAMILY,
    HEADER_STYLES,
    MEN,
    OCCUPATIONS_OTHER,
    OCCUPATIONS_SAWIT,
    WOMEN,
)
from lindung_cli.demo_programme import (
    COVERAGE_START,
    DEMO_PROGRAMME,
    EXAMPLE_WORKER,
    OTHER_FUNDER_PROGRAMME,
    demo_day,
    demo_programme_path,
    examples_dir,
    p3ke_extract,
    read_quotas,
)
from lindung_cli.demo_province import (
    DEFECT_OUTCOMES,
    DEFECT_RATES,
    NOMINATION_FACTOR,
    DemoPerson,
    generate_demo,
    generate_single_list,
)

__all__ = [
    "COVERAGE_START",
    "DEFECT_OUTCOMES",
    "DEFECT_RATES",
    "DEMO_PROGRAMME",
    "EXAMPLE_WORKER",
    "FAMILY",
    "HEADER_STYLES",
    "MEN",
    "NOMINATION_FACTOR",
    "OCCUPATIONS_OTHER",
    "OCCUPATIONS_SAWIT",
    "OTHER_FUNDER_PROGRAMME",
    "WOMEN",
    "DemoPerson",
    "demo_day",
    "demo_programme_path",
    "examples_dir",
    "generate_demo",
    "generate_single_list",
    "p3ke_extract",
    "read_quotas",
]
