"""A batch's rows of one dashboard table as one MERGE (services/dashboard/adapters/merged_rows.py):
each row sets only the columns it names, a new row takes the table's defaults for the others."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from services.dashboard.adapters.merged_rows import merge_statement, rows_json
from services.dashboard.adapters.tables import claim_flags, placements
from services.dashboard.domain.read_model import KEYS


def test_rows_travel_as_json_objects_of_the_columns_they_set() -> None:
    at = datetime(2025, 1, 6, 8, 0, 1, tzinfo=UTC)
    rows = [
        {"programme_code": "P", "worker_id": "w", "waitlist_position": None, "updated_at": at},
        {"programme_code": "P", "worker_id": "v", "lapsed_on": date(2025, 3, 1), "reason_codes": ["A"]},
    ]
    decoded = json.loads(rows_json(rows))
    # A NULL a row sets is a value it sends; a column it does not set is absent.
    assert decoded[0] == {
        "programme_code": "P",
        "worker_id": "w",
        "waitlist_position": None,
        "updated_at": "2025-01-06T08:00:01+00:00",
    }
    assert decoded[1]["lapsed_on"] == "2025-03-01" and decoded[1]["reason_codes"] == ["A"]
    with pytest.raises(TypeError):
        rows_json([{"x": object()}])


def test_the_merge_sets_named_columns_and_inserts_defaults_for_the_others() -> None:
    sql = merge_statement(placements, KEYS["placements"], "dashboard_replay_1").text
    assert sql.startswith('MERGE INTO "dashboard_replay_1"."placements" AS t')
    assert """"enrolment" = CASE WHEN v.r ? 'enrolment' THEN v."enrolment" ELSE t."enrolment" END""" in sql
    assert "CASE WHEN v.r ? 'ever_lapsed' THEN v.\"ever_lapsed\" ELSE false END" in sql
    # Key columns are matched, never set.
    assert '"worker_id" = CASE' not in sql


def test_a_table_of_keys_only_inserts_what_it_lacks() -> None:
    sql = merge_statement(claim_flags, KEYS["claim_flags"], "dashboard").text
    assert "WHEN MATCHED THEN DO NOTHING" in sql
