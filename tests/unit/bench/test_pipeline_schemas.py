"""The pipeline bench reads the event tables of the services its stages name, in the services'
order (libs/service_names.py)."""

from __future__ import annotations

from lindung_cli.benchmarks.pipeline_events import FAILURES, SCHEMAS, STAGES


def test_the_schemas_are_those_of_the_stages_in_the_services_order() -> None:
    assert SCHEMAS == ("registry", "allocation", "enrollment", "bpjs_simulator")
    assert {stage.schema for stage in (*STAGES, *FAILURES)} == set(SCHEMAS)
