"""The BPJS boundary and enrollment contracts stay readable for events written before their new
fields; the premiums CLI finds the service and writes rupiah the Indonesian way."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.events import Envelope, decode
from libs.events.contracts.bpjs import (
    PremiumPaymentConfirmed,
    PremiumPaymentRequested,
    RegistrationAccepted,
    RegistrationRejected,
)
from libs.events.contracts.enrollment import CoverageLapsed, EnrolledAtBPJS, EnrollmentFailed, PremiumPaid
from libs.settings import get_settings
from lindung_cli.commands.premiums import enrollment_url, rupiah


def old(event_type: str, payload: dict[str, object]) -> object:
    return decode(
        Envelope(
            event_type=event_type,
            schema_version=1,
            aggregate_id="a",
            aggregate_version=1,
            correlation_id=uuid.uuid4(),
            producer="bpjs",
            payload=payload,
        )
    )


def test_answers_written_before_attempts_existed_answer_attempt_one_and_are_final() -> None:
    accepted = old(
        "RegistrationAccepted",
        {"request_id": "w:P", "worker_id": "w", "kpj": "KPJ1", "registered_at": "2025-01-05T02:00:00Z"},
    )
    assert isinstance(accepted, RegistrationAccepted) and accepted.attempt == 1
    rejected = old(
        "RegistrationRejected",
        {"request_id": "w:P", "worker_id": "w", "reason_code": "NIK_NOT_FOUND", "reason": "x"},
    )
    assert isinstance(rejected, RegistrationRejected) and (rejected.attempt, rejected.retryable) == (1, False)


def test_enrollment_events_written_before_the_new_fields_still_read() -> None:
    enrolled = old(
        "EnrolledAtBPJS",
        {
            "worker_id": "w",
            "programme_code": "P",
            "funder": "APBD_PROVINSI",
            "regency_code": "12.17",
            "kpj": "KPJ1",
            "coverage_start": "2025-01-01",
            "coverage_end": "2025-12-31",
            "request_id": "w:P",
        },
    )
    assert isinstance(enrolled, EnrolledAtBPJS) and enrolled.enrolled_on is None and enrolled.attempt == 1
    failed = old(
        "EnrollmentFailed",
        {
            "worker_id": "w",
            "programme_code": "P",
            "regency_code": "12.17",
            "reason_code": "X",
            "reason": "x",
            "request_id": "r",
        },
    )
    assert isinstance(failed, EnrollmentFailed) and failed.attempts == 1
    paid = old(
        "PremiumPaid",
        {
            "programme_code": "P",
            "month": "2025-03",
            "funder": "APBD_PROVINSI",
            "regency_code": "12.17",
            "workers": 2,
            "jkk_total": 20_000,
            "jkm_total": 13_600,
            "total": 33_600,
            "payment_ref": "R",
        },
    )
    assert isinstance(paid, PremiumPaid) and (paid.bill_id, paid.paid_on, paid.worker_ids) == ("", None, [])
    lapsed = old(
        "CoverageLapsed",
        {"worker_id": "w", "programme_code": "P", "lapsed_on": "2025-02-28", "month_unpaid": "2025-03"},
    )
    assert isinstance(lapsed, CoverageLapsed) and lapsed.recorded_on is None


def test_payment_contracts_key_by_request_and_refuse_bad_months() -> None:
    request = PremiumPaymentRequested(
        payment_request_id="P/2026-03/12.17/1",
        attempt=1,
        programme_code="P",
        month="2026-03",
        funder="APBD_PROVINSI",
        regency_code="12.17",
        kpjs=["KPJ1"],
        participants=1,
        jkk_per_participant=10_000,
        jkm_per_participant=6_800,
        jkk_total=10_000,
        jkm_total=6_800,
        total=16_800,
    )
    assert request.partition_key() == "P/2026-03/12.17/1"
    with pytest.raises(ValidationError):
        PremiumPaymentRequested.model_validate({**request.model_dump(), "month": "2026-3"})
    with pytest.raises(ValidationError):
        PremiumPaymentRequested.model_validate({**request.model_dump(), "kpjs": []})
    confirmed = PremiumPaymentConfirmed(
        payment_request_id=request.payment_request_id,
        attempt=2,
        payment_ref="BPJS-PAY-1",
        paid_at="2026-02-26T03:00:00Z",
        participants=1,
        total=16_800,
    )
    assert confirmed.partition_key() == request.partition_key()
    assert PremiumPaid.model_fields["worker_ids"].default_factory is not None


def test_rupiah_uses_dots_for_thousands() -> None:
    assert rupiah(16_800) == "Rp16.800"
    assert rupiah(4_208_803_200) == "Rp4.208.803.200"
    assert rupiah(0) == "Rp0"


def test_the_cli_finds_enrollment_in_the_running_stack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINDUNG_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LINDUNG_PORT_OFFSET", "0")
    monkeypatch.delenv("LINDUNG_HTTP_PORT", raising=False)
    get_settings.cache_clear()
    try:
        assert enrollment_url("http://example:9/") == "http://example:9"
        assert enrollment_url(None) == "http://127.0.0.1:8103"
        (tmp_path / "runtime.json").write_text(
            json.dumps({"services": {"enrollment": "http://127.0.0.1:9203"}})
        )
        assert enrollment_url(None) == "http://127.0.0.1:9203"
    finally:
        get_settings.cache_clear()
