"""Personal data out of logs, error texts and exports (libs/pii.py, libs/runtime/logs.py)."""

from __future__ import annotations

import copy
import io
import logging
import sys

import pytest
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import exc as sa_exc

from libs.pii import mask_name, mask_nik, mask_personal_fields, redact_niks, redact_personal_data
from libs.runtime.logs import RedactingFormatter

NIK = "1217051708850001"
OTHER_NIK = "1271054507880002"
NAME = "Sahat Malau"


class Nomination(BaseModel):
    nik: int
    full_name: str = Field(max_length=5)


def validation_error_text() -> str:
    with pytest.raises(ValidationError) as exc:
        Nomination.model_validate({"nik": NIK + "x", "full_name": NAME})
    return str(exc.value)


def test_masks() -> None:
    assert mask_nik(NIK) == "1217**********01"
    assert mask_nik("12345") == "*****"
    assert mask_name(NAME) == "S*** M***"
    assert mask_name("  Rosmawati   br  Sinaga ") == "R*** b*** S***"
    assert mask_name("") == ""
    assert redact_niks(f"nik={NIK}, lagi {OTHER_NIK}.") == "nik=1217**********01, lagi 1271**********02."
    # 15 or 17 digits are not a NIK; a NIK glued to letters still is.
    assert redact_niks("121705170885000") == "121705170885000"
    assert redact_niks("12170517088500011") == "12170517088500011"
    assert redact_niks(f"NIK{NIK}x") == "NIK1217**********01x"


def test_a_pydantic_validation_error_loses_its_inputs() -> None:
    text = validation_error_text()
    assert NAME in text and NIK in text  # what pydantic itself writes
    redacted = redact_personal_data(text)
    assert NAME not in redacted and NIK not in redacted and NIK[4:14] not in redacted
    # What went wrong, and where, is kept.
    assert "full_name" in redacted and "string_too_long" in redacted and "int_parsing" in redacted
    assert redacted.count("input_value=<disembunyikan>, input_type=str]") == 2
    assert "For further information visit" in redacted


def test_an_input_quoting_input_type_is_cut_to_the_lines_last_marker() -> None:
    text = "x [type=t, input_value='Sahat, input_type=str Malau', input_type=str]\nnext line"
    assert redact_personal_data(text) == "x [type=t, input_value=<disembunyikan>, input_type=str]\nnext line"


def test_a_whole_payload_quoted_by_pydantic_is_cut() -> None:
    text = (
        f"nik\n  Field required [type=missing, input_value={{'full_name': '{NAME}', 'x': 1}}, "
        "input_type=dict]"
    )
    redacted = redact_personal_data(text)
    assert NAME not in redacted and "input_type=dict]" in redacted


class Orig(Exception):
    pass


def test_sqlalchemy_parameters_and_postgresql_details_are_cut() -> None:
    error = sa_exc.IntegrityError(
        "INSERT INTO registry.nominations (nik, full_name) VALUES (%(nik)s, %(full_name)s)",
        {"nik": NIK, "full_name": NAME},
        Orig(
            'duplicate key value violates unique constraint "uq"\n'
            f"DETAIL:  Key (full_name)=({NAME}) already exists."
        ),
    )
    text = str(error)
    assert "[parameters: {" in text and NAME in text and NIK in text
    redacted = redact_personal_data(text)
    assert NAME not in redacted and NIK not in redacted
    assert "[parameters: <disembunyikan>]" in redacted and "DETAIL: <disembunyikan>" in redacted
    assert "[SQL: INSERT INTO registry.nominations" in redacted  # the statement holds no values
    assert "(Background on this error at:" in redacted  # the next line survives


def test_many_parameter_sets_are_cut_too() -> None:
    error = sa_exc.DBAPIError("INSERT x", [(NAME, NIK)] * 12, Orig("boom"))
    redacted = redact_personal_data(str(error))
    assert NAME not in redacted and NIK not in redacted and "boom" in redacted


def test_personal_fields_are_masked_at_any_depth() -> None:
    payload = {
        "worker_id": "w-1",
        "nik": NIK,
        "full_name": NAME,
        "identity": {"nik": OTHER_NIK, "full_name": "Rosmawati Sinaga", "address": "Jl. Danau Toba 1"},
        "rows": [{"nik": NIK, "phone": "081234567890", "desil": 1}, [{"full_name": "Ucok"}], "text"],
        "address": "",
        "phone": None,  # not a string: left as it is
        "amount": 16_800,
    }
    original = copy.deepcopy(payload)
    masked = mask_personal_fields(payload)
    assert masked == {
        "worker_id": "w-1",
        "nik": "1217**********01",
        "full_name": "S*** M***",
        "identity": {"nik": "1271**********02", "full_name": "R*** S***", "address": "***"},
        "rows": [{"nik": "1217**********01", "phone": "***", "desil": 1}, [{"full_name": "U***"}], "text"],
        "address": "",
        "phone": None,
        "amount": 16_800,
    }
    assert payload == original  # a copy: the event itself is not touched


def record_with(exc_info: object, message: str, *args: object) -> logging.LogRecord:
    return logging.LogRecord("lindung.test", logging.ERROR, __file__, 1, message, args, exc_info)  # type: ignore[arg-type]


def test_the_log_formatter_masks_messages_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(levelname)s registry %(name)s: %(message)s")
    try:
        try:
            Nomination.model_validate({"nik": NIK + "x", "full_name": NAME})
        except ValidationError as inner:
            raise RuntimeError(f"cannot nominate {NIK}") from inner
    except RuntimeError:
        info = sys.exc_info()
    line = formatter.format(record_with(info, "nomination of %s failed", OTHER_NIK))
    assert "Traceback (most recent call last)" in line and "RuntimeError: cannot nominate" in line
    for secret in (NIK, OTHER_NIK, NAME):
        assert secret not in line
    assert "nomination of 1271**********02 failed" in line
    assert "cannot nominate 1217**********01" in line
    assert "input_value=<disembunyikan>" in line


def test_the_formatter_writes_through_a_handler_without_personal_data() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter("%(message)s"))
    logger = logging.getLogger("lindung.test.pii")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError(f"NIK {NIK} sudah ada")
        except ValueError:
            logger.exception("gagal")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert NIK not in text and "NIK 1217**********01 sudah ada" in text
