"""A date that is not a date (31 February, day 32, month 13) is answered as such on every path."""

from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from services.registry.adapters.upload import read_birth_date
from services.registry.domain.answers import Answer, AnswerCode
from services.registry.domain.dates import birth_date_answer, calendar_date, date_parts


@pytest.mark.parametrize(
    ("written", "why"),
    [
        ("31-02-1985", "Februari 1985 hanya 28 hari"),
        ("29/02/1900", "Februari 1900 hanya 28 hari"),
        ("1985-02-30", "Februari 1985 hanya 28 hari"),
        ("32-01-1985", "Januari 1985 hanya 31 hari"),
        ("31-04-1990", "April 1990 hanya 30 hari"),
        ("00-05-1990", "tanggal 0 tidak ada"),
        ("1985-13-01", "bulan 13 tidak ada (bulan 1 sampai 12)"),
        ("15-00-1985", "bulan 0 tidak ada (bulan 1 sampai 12)"),
        ("31 Juni 1980", "Juni 1980 hanya 30 hari"),
    ],
)
def test_a_date_that_does_not_exist_says_which_part(written: str, why: str) -> None:
    found = calendar_date(written)
    assert isinstance(found, Answer) and found.code is AnswerCode.BIRTH_DATE_NONEXISTENT
    assert found.message == f"Tanggal lahir '{written}' tidak ada di kalender: {why}."
    assert read_birth_date(written) == found


def test_real_dates_and_leap_days_are_dates() -> None:
    assert calendar_date("29-02-1988") == date(1988, 2, 29)
    assert calendar_date("2000-02-29") == date(2000, 2, 29)
    assert date_parts("5 Juli 1988") == (1988, 7, 5)


@pytest.mark.parametrize("written", ["kemarin", "07-05-88", "", "1988/7"])
def test_text_without_a_date_shape_is_unreadable_not_nonexistent(written: str) -> None:
    assert calendar_date(written) is None
    found = read_birth_date(written)
    assert isinstance(found, Answer) and found.code is AnswerCode.BIRTH_DATE_UNREADABLE


class _Nomination(BaseModel):
    birth_date: date
    sex: str


def _errors(**payload: object) -> list[dict[str, object]]:
    with pytest.raises(ValidationError) as refused:
        _Nomination.model_validate(payload)
    return [dict(e) for e in refused.value.errors()]


def test_pydantic_errors_on_a_nonexistent_birth_date_get_the_lindung_answer() -> None:
    found = birth_date_answer(_errors(birth_date="2026-02-31", sex="L"))
    assert found is not None and found.code is AnswerCode.BIRTH_DATE_NONEXISTENT
    assert found.details == {"value": "2026-02-31", "why": "Februari 2026 hanya 28 hari"}


def test_other_pydantic_errors_are_left_to_the_generic_answer() -> None:
    assert birth_date_answer(_errors(birth_date="kemarin", sex="L")) is None
    assert birth_date_answer(_errors(birth_date="1985-01-01")) is None
