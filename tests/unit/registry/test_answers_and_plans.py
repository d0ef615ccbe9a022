"""Answer codes, the upload plan (pure: rows to requests) and the nomination fold."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from libs.events import decode
from libs.events.contracts.common import Funder, Reason
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationWithdrawn,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.events.envelope import Envelope
from libs.eventstore.decider import Recorded
from services.registry.adapters.upload import read_row
from services.registry.application.upload import plan_upload
from services.registry.domain.answers import AnswerCode, answer, answer_table
from services.registry.domain.reasons import ReasonCode
from services.registry.domain.worker import fold_nomination

# Stored in replies and shown to integrators: this list may grow, never change.
STABLE_ANSWERS = [
    "PROGRAMME_UNKNOWN",
    "NOMINATION_INVALID",
    "BIRTH_DATE_UNREADABLE",
    "DECILE_INVALID",
    "UPLOAD_UNREADABLE",
    "UPLOAD_COLUMNS_MISSING",
    "UPLOAD_TOO_LARGE",
    "MESSAGE_MALFORMED",
    "MESSAGE_SCHEMA_INVALID",
    "MESSAGE_VERSION_UNSUPPORTED",
    "NOMINATION_NOT_PROCESSED",
    "NOMINATION_NOT_FOUND",
    "NOMINATION_NOT_CORRECTABLE",
    "CORRECTION_EMPTY",
    "NOMINATION_ALREADY_WITHDRAWN",
    "REFERENCE_INVALID",
    "BIRTH_DATE_NONEXISTENT",
    "REQUEST_INVALID",
    "PROGRAMME_ENDED",
    "UPLOAD_TOO_LARGE_UNCOMPRESSED",
    "PERSON_NOT_FOUND",
    "PERSON_ALREADY_FORGOTTEN",
    "PRIVACY_NOT_CONFIGURED",
]


def test_answer_codes_are_stable_and_never_collide_with_rule_codes() -> None:
    assert [code.value for code in AnswerCode] == STABLE_ANSWERS
    assert not {c.value for c in AnswerCode} & {c.value for c in ReasonCode}


def test_every_answer_has_an_indonesian_sentence_without_the_nik() -> None:
    import string

    for code, template in answer_table():
        assert template.strip().endswith((".", ":")) or "{error}" in template, code
        names = {n for _, n, _, _ in string.Formatter().parse(template) if n}
        assert "nik" not in names


def test_answer_fills_its_template() -> None:
    why = answer(AnswerCode.PROGRAMME_UNKNOWN, programme_code="X-2026")
    assert why.message == "Program X-2026 tidak dikenal atau belum ditetapkan."
    assert why.details == {"programme_code": "X-2026"}


NIK = "1217054507880001"


def row(number: int, nik: str = NIK, **cells: object) -> object:
    values: dict[str, object] = {
        "nik": nik,
        "full_name": "Rosmawati Sinaga",
        "birth_date": "05-07-1988",
        "sex": "P",
        "occupation": "petani",
        "kecamatan": "Pangururan",
        "desa": "Lumban Suhi Suhi",
        "sector": "non sawit",
        **cells,
    }
    return read_row(number, values)


def test_the_plan_answers_unreadable_rows_and_flags_repeats_naming_the_first_row() -> None:
    rows = [
        row(2),
        row(3, birth_date="tidak tahu"),
        row(4, nik=" ".join([NIK[:4], NIK[4:8], NIK[8:12], NIK[12:]])),
        row(5, full_name="x" * 201),
        row(6, nik="1217054507880002"),
    ]
    plan = plan_upload(rows, programme_code="P-2026", regency_code="12.17", source_name="a.csv")  # type: ignore[arg-type]
    assert [p.row for p in plan] == [2, 3, 4, 5, 6]
    first, unreadable, repeat, too_long, other = plan
    assert first.request is not None and first.request.extra_rejections == ()
    assert first.request.command.source_ref == "a.csv#2"
    assert unreadable.request is None and [r.code for r in unreadable.invalid] == ["BIRTH_DATE_UNREADABLE"]
    assert repeat.request is not None
    assert [r.code for r in repeat.request.extra_rejections] == [ReasonCode.DUPLICATE_IN_UPLOAD]
    assert repeat.request.extra_rejections[0].details == {"first_row": "2"}
    assert too_long.request is None and too_long.invalid[0].code == "NOMINATION_INVALID"
    assert too_long.invalid[0].details == {"fields": "full_name"}
    assert other.request is not None and other.request.extra_rejections == ()


def envelope(event: object, version: int) -> Envelope:
    return Envelope(
        event_type=event.event_type,  # type: ignore[attr-defined]
        schema_version=event.schema_version,  # type: ignore[attr-defined]
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        aggregate_id="worker-w1",
        aggregate_version=version,
        correlation_id=uuid.uuid4(),
        producer="registry",
        payload=event.model_dump(mode="json"),  # type: ignore[attr-defined]
    )


def recorded(event: object, version: int) -> Recorded:
    stored = envelope(event, version)
    return Recorded(decode(stored), stored)


def test_the_fold_follows_a_nomination_through_rejection_correction_and_withdrawal() -> None:
    common = {"worker_id": "w1", "nomination_id": "n1", "programme_code": "P"}
    nominated = WorkerNominated(
        **common, nik=NIK, full_name="Rosmawati", birth_date=date(1988, 7, 6), sex="P", occupation="petani",
        regency_code="12.17", sector="non_sawit", funder=Funder.APBD_PROVINSI, channel="kafka",
        submitted_by="regency-12.17", source_ref="r-1",
    )  # fmt: skip
    other = nominated.model_copy(update={"nomination_id": "n2"})
    rejected = WorkerRejected(
        **common,
        regency_code="12.17",
        nik_masked="1217**********01",
        reasons=[Reason(code="NIK_BIRTHDATE_MISMATCH", message="m")],
        reference_version="p3ke:a;dtks:none",
    )
    fields = {k: v for k, v in nominated.model_dump().items() if k not in ("submitted_by", "source_ref")}
    corrected = NominationCorrected(
        **{**fields, "birth_date": date(1988, 7, 5)}, corrected_by="petugas", corrected_fields=["birth_date"]
    )
    validated = WorkerValidated(
        **common,
        identity={"nik": NIK, "full_name": "Rosmawati", "birth_date": "1988-07-05", "sex": "P"},
        occupation="petani",
        regency_code="12.17",
        sector="non_sawit",
        funder=Funder.APBD_PROVINSI,
        poverty_source="P3KE",
        reference_version="p3ke:b;dtks:none",
        nominated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    withdrawn = NominationWithdrawn(**common, regency_code="12.17", reason="moved", withdrawn_by="test")
    stream = [recorded(e, i) for i, e in enumerate([nominated, other, rejected, corrected, validated], 1)]

    state = fold_nomination(stream[:3], "n1")
    assert (
        state is not None and state.status == "rejected" and state.reasons[0].code == "NIK_BIRTHDATE_MISMATCH"
    )
    assert state.source_ref == "r-1" and state.submitted_by == "regency-12.17"
    state = fold_nomination(stream, "n1")
    assert state is not None and state.status == "validated" and state.reasons == ()
    assert state.source.birth_date == date(1988, 7, 5) and state.reference_version == "p3ke:b;dtks:none"
    state = fold_nomination([*stream, recorded(withdrawn, 6)], "n1")
    assert state is not None and state.status == "withdrawn"
    assert fold_nomination(stream, "n2") is not None and fold_nomination(stream, "n3") is None
    # A nomination whose NIK was corrected continues on the new worker's stream.
    moved = fold_nomination(stream[3:], "n1")
    assert moved is not None and moved.status == "validated" and moved.source is not None
