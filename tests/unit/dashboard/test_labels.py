"""Numbers and words as Indonesian officers read them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.dashboard.domain import labels as lb


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (7, "7"), (999, "999"), (1000, "1.000"), (20877, "20.877"), (-1500, "-1.500")],
)
def test_numbers_group_digits_with_dots(value: int, text: str) -> None:
    assert lb.number(value) == text


def test_rupiah() -> None:
    assert lb.rupiah(4_210_000_000) == "Rp4.210.000.000"
    assert lb.rupiah(16_800) == "Rp16.800"
    assert lb.rupiah(0) == "Rp0"
    assert lb.rupiah(-201_600) == "-Rp201.600"


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_grouping_loses_no_digit(value: int) -> None:
    assert int(lb.number(value).replace(".", "")) == value


@pytest.mark.parametrize(
    ("part", "whole", "text"),
    [(1, 3, "33,3%"), (2, 3, "66,7%"), (1, 2000, "0,1%"), (1, 2001, "0,0%"), (5, 5, "100,0%"), (3, 0, "–")],
)
def test_percent_rounds_half_up_with_a_decimal_comma(part: int, whole: int, text: str) -> None:
    assert lb.percent(part, whole) == text


def test_months_and_regions() -> None:
    assert lb.month_label("2025-03") == "Mar 2025"
    assert lb.month_label("2025-08") == "Agu 2025"
    assert lb.regency_name("12.17") == "Kabupaten Samosir"
    assert lb.regency_name("12.71") == "Kota Medan"
    assert lb.regency_name("13.01") == "Tidak dikenal (13.01)"
    assert len(lb.REGION_ORDER) == 33 and lb.REGION_ORDER["12.01"] == 0


def test_unknown_codes_stay_visible() -> None:
    assert lb.label(lb.REJECTION_LABELS, "NOT_IN_P3KE_OR_DTKS") == "Tidak ada di P3KE maupun DTKS"
    assert lb.label(lb.REJECTION_LABELS, "A_NEW_REASON") == "A_NEW_REASON"
