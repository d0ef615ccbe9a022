"""A run of registration requests or enrollments written in one statement per table names each
registration once, as the events one by one would have left it (services/enrollment/adapters/
registration_runs.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from services.enrollment.adapters.registration_runs import latest_enrolments, merged_requests

T0 = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def request(worker: str, attempt: int, minutes: int) -> dict[str, Any]:
    at = T0 + timedelta(minutes=minutes)
    return {
        "worker_id": worker,
        "programme_code": "P",
        "request_id": f"{worker}:P",
        "status": "requested",
        "attempts": attempt,
        "funder": "APBD_PROVINSI",
        "regency_code": "12.17",
        "sector": "non_sawit",
        "nik_masked": "1217********0001",
        "coverage_start": date(2026, 1, 1),
        "coverage_end": date(2026, 12, 31),
        "requested_at": at,
        "updated_at": at,
        "attempt_sent_at": at,
        "retry_at": None,
    }


def test_a_later_attempt_in_the_run_updates_the_first_request_as_its_upsert_would() -> None:
    first, other, second = request("w-1", 1, 0), request("w-2", 1, 1), request("w-1", 2, 5)
    merged = merged_requests([first, other, second])
    assert [r["worker_id"] for r in merged] == ["w-1", "w-2"]
    kept = merged[0]
    # Kept from the first request: when it was first asked, and its status.
    assert (kept["requested_at"], kept["status"]) == (first["requested_at"], "requested")
    # Set by the later attempt, as the upsert's update sets them.
    assert (kept["attempts"], kept["attempt_sent_at"], kept["updated_at"]) == (
        2,
        second["updated_at"],
        second["updated_at"],
    )
    assert kept["retry_at"] is None
    assert first["attempts"] == 1  # the event's own row is not changed


def test_the_later_of_two_enrollments_of_one_request_wins() -> None:
    rows = [
        {"request_id": "a", "kpj": "K1"},
        {"request_id": "b", "kpj": "K2"},
        {"request_id": "a", "kpj": "K3"},
    ]
    assert latest_enrolments(rows) == [{"request_id": "a", "kpj": "K3"}, {"request_id": "b", "kpj": "K2"}]
