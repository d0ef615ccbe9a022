"""Property-based tests of the NIK rules over real region codes and all valid dates."""

from dataclasses import dataclass
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from libs.nik import compose_nik
from libs.regions import all_regions, region_by_code
from services.registry.domain.nik import ParsedNik, mask_nik, normalize_nik, parse_nik
from services.registry.domain.reasons import ReasonCode

REFERENCE = date(2026, 1, 1)
KNOWN_REGENCY_PARTS = frozenset(region.nik_code[2:] for region in all_regions())


@dataclass(frozen=True)
class NikParts:
    regency: str  # NIK form, "1271"
    subdistrict: int
    birth_date: date
    sex: str
    serial: int

    @property
    def nik(self) -> str:
        # The builder demo data and benchmarks use: every valid NIK it makes must parse back.
        return compose_nik(self.regency, self.subdistrict, self.birth_date, self.sex, self.serial)


@st.composite
def valid_nik_parts(draw: st.DrawFn, reference: date = REFERENCE) -> NikParts:
    # Born within the 100 years up to the reference date: the span the century rule can tell.
    earliest = date(reference.year - 100, reference.month, reference.day) + timedelta(days=1)
    return NikParts(
        regency=draw(st.sampled_from([region.nik_code for region in all_regions()])),
        subdistrict=draw(st.integers(1, 99)),
        birth_date=draw(st.dates(min_value=earliest, max_value=reference)),
        sex=draw(st.sampled_from(["L", "P"])),
        serial=draw(st.integers(1, 9999)),
    )


def _codes(nik: str) -> list[ReasonCode]:
    result = parse_nik(nik, reference_date=REFERENCE)
    return [] if isinstance(result, ParsedNik) else [r.code for r in result]


@given(valid_nik_parts())
def test_any_valid_nik_parses_and_round_trips_its_parts(parts: NikParts) -> None:
    parsed = parse_nik(parts.nik, reference_date=REFERENCE)
    assert isinstance(parsed, ParsedNik)
    assert parsed.nik == parts.nik
    assert parsed.regency_code == f"{parts.regency[:2]}.{parts.regency[2:]}"
    assert parsed.subdistrict == f"{parts.subdistrict:02d}"
    assert parsed.birth_date == parts.birth_date
    assert parsed.sex == parts.sex
    assert parsed.serial == f"{parts.serial:04d}"


@given(valid_nik_parts())
def test_women_have_day_plus_forty_and_men_the_plain_day(parts: NikParts) -> None:
    day_digits = int(parts.nik[6:8])
    if parts.sex == "P":
        assert 41 <= day_digits <= 71
        assert day_digits == parts.birth_date.day + 40
    else:
        assert 1 <= day_digits <= 31


@given(valid_nik_parts().filter(lambda parts: parts.sex == "L"))
def test_adding_forty_to_a_mans_day_gives_a_woman_born_the_same_day(parts: NikParts) -> None:
    nik = parts.nik
    as_woman = f"{nik[:6]}{int(nik[6:8]) + 40:02d}{nik[8:]}"
    parsed = parse_nik(as_woman, reference_date=REFERENCE)
    assert isinstance(parsed, ParsedNik)
    assert (parsed.birth_date, parsed.sex) == (parts.birth_date, "P")


@given(valid_nik_parts(), st.sampled_from([2, 3]), st.sampled_from("0123456789"))
def test_a_digit_changed_in_the_regency_part_gives_that_regency_or_a_rejection(
    parts: NikParts, position: int, digit: str
) -> None:
    nik = parts.nik[:position] + digit + parts.nik[position + 1 :]
    regency_part = nik[2:4]
    result = parse_nik(nik, reference_date=REFERENCE)
    if regency_part in KNOWN_REGENCY_PARTS:
        assert isinstance(result, ParsedNik)
        assert result.regency_code == f"12.{regency_part}"
    else:
        assert _codes(nik) == [ReasonCode.NIK_REGENCY_UNKNOWN]


@given(
    valid_nik_parts(),
    st.integers(0, 99).map("{:02d}".format).filter(lambda part: part not in KNOWN_REGENCY_PARTS),
)
def test_any_unknown_regency_code_is_rejected(parts: NikParts, regency_part: str) -> None:
    nik = f"12{regency_part}{parts.nik[4:]}"
    assert region_by_code(nik[:4]) is None
    assert _codes(nik) == [ReasonCode.NIK_REGENCY_UNKNOWN]


@given(valid_nik_parts())
def test_serial_0000_is_rejected(parts: NikParts) -> None:
    assert _codes(parts.nik[:12] + "0000") == [ReasonCode.NIK_SERIAL_ZERO]


@given(valid_nik_parts())
def test_subdistrict_00_is_rejected(parts: NikParts) -> None:
    assert _codes(parts.nik[:4] + "00" + parts.nik[6:]) == [ReasonCode.NIK_SUBDISTRICT_ZERO]


@given(valid_nik_parts(), st.integers(0, 99).filter(lambda province: province != 12))
def test_any_other_province_is_rejected(parts: NikParts, province: int) -> None:
    assert _codes(f"{province:02d}{parts.nik[2:]}") == [ReasonCode.NIK_PROVINCE]


def _is_a_nik_once_spaces_go(text: str) -> bool:
    digits = normalize_nik(text)
    return len(digits) == 16 and digits.isascii() and digits.isdigit()


_NOT_SIXTEEN_DIGITS = st.one_of(
    st.text(alphabet="0123456789", max_size=40),
    st.text(alphabet="0123456789 ", max_size=40),
    st.text(min_size=16, max_size=16),
    st.text(),
).filter(lambda text: not _is_a_nik_once_spaces_go(text))


@given(_NOT_SIXTEEN_DIGITS)
def test_anything_not_sixteen_digits_is_a_format_error(text: str) -> None:
    assert _codes(text) == [ReasonCode.NIK_FORMAT]
    assert set(mask_nik(text)) <= {"*"}


@given(st.from_regex(r"[0-9]{6}", fullmatch=True), st.dates(min_value=date(1950, 1, 1)))
def test_the_century_gives_the_latest_date_not_after_the_reference(ddmmyy: str, reference: date) -> None:
    result = parse_nik(f"127105{ddmmyy}0001", reference_date=reference)
    if not isinstance(result, ParsedNik):
        return  # not a calendar date in any century: covered by the example tests
    born = result.birth_date
    assert born <= reference
    assert born.year % 100 == int(ddmmyy[4:6])
    assert (born.month, born.day) == (int(ddmmyy[2:4]), int(ddmmyy[0:2]) % 40)
    try:
        a_century_later = born.replace(year=born.year + 100)
    except ValueError:
        return  # 29 February in a year that has none
    assert a_century_later > reference


@given(valid_nik_parts())
def test_the_mask_keeps_only_the_regency_and_the_last_two_digits(parts: NikParts) -> None:
    masked = mask_nik(parts.nik)
    assert len(masked) == 16
    assert masked[:4] == parts.regency
    assert masked[4:14] == "*" * 10
    assert masked[14:] == parts.nik[14:]
