from datetime import date

import pytest

from services.enrollment.domain.months import YearMonth, months_from_to


def test_parse_and_print_round_trip() -> None:
    month = YearMonth.parse("2025-03")
    assert month == YearMonth(2025, 3)
    assert str(month) == "2025-03"


@pytest.mark.parametrize("text", ["2025-3", "2025-13", "2025-00", "25-03", "2025-03-01", ""])
def test_parse_refuses_malformed_months(text: str) -> None:
    with pytest.raises(ValueError):
        YearMonth.parse(text)


def test_first_and_last_day_including_leap_february() -> None:
    assert YearMonth(2024, 2).first_day == date(2024, 2, 1)
    assert YearMonth(2024, 2).last_day == date(2024, 2, 29)
    assert YearMonth(2025, 2).last_day == date(2025, 2, 28)
    assert YearMonth(2025, 12).last_day == date(2025, 12, 31)


def test_plus_crosses_year_boundaries_both_ways() -> None:
    assert YearMonth(2025, 12).plus(1) == YearMonth(2026, 1)
    assert YearMonth(2025, 1).plus(-1) == YearMonth(2024, 12)
    assert YearMonth(2025, 3).plus(0) == YearMonth(2025, 3)
    assert YearMonth(2025, 3).plus(22) == YearMonth(2027, 1)


def test_of_and_ordering() -> None:
    assert YearMonth.of(date(2025, 7, 31)) == YearMonth(2025, 7)
    assert YearMonth(2024, 12) < YearMonth(2025, 1) < YearMonth(2025, 2)


def test_months_from_to_is_inclusive_and_empty_when_reversed() -> None:
    months = months_from_to(YearMonth(2024, 11), YearMonth(2025, 2))
    assert [str(m) for m in months] == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert months_from_to(YearMonth(2025, 2), YearMonth(2025, 1)) == []
