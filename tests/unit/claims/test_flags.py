from libs.wording import rupiah
from services.claims.domain.flags import FlagCode, flag, flag_messages_table, message_for


def test_every_code_has_an_indonesian_message() -> None:
    for code in FlagCode:
        assert message_for(code)


def test_codes_are_stable_strings() -> None:
    assert [str(code) for code in FlagCode] == [
        "UNKNOWN_PARTICIPANT",
        "INCIDENT_OUTSIDE_COVERAGE",
        "BENEFIT_NOT_IN_PROGRAMME",
        "AMOUNT_ABOVE_BENEFIT",
        "DUPLICATE_DEATH_CLAIM",
        "CLAIM_AMOUNT_CHANGED",
        "CLAIM_DETAILS_CHANGED",
        "BEFORE_ENROLLMENT",
        "IN_LAPSE",
        "MONTH_NOT_PAID",
        "COVERAGE_ENDED",
        "MEMBERSHIP_ENDED",
        "JKK_CLAIM_WINDOW_PASSED",
        "SCHOLARSHIP_MEMBERSHIP_TOO_SHORT",
    ]


def test_messages_table_lists_every_code_once() -> None:
    table = flag_messages_table()
    lines = table.splitlines()
    assert lines[0] == "| Code | Pesan (Indonesian) | Meaning |"
    assert len(lines) == 2 + len(FlagCode)
    assert (
        "| `INCIDENT_OUTSIDE_COVERAGE` | Tanggal kejadian berada di luar masa perlindungan peserta. |"
        in table
    )


def test_flag_carries_the_standard_message() -> None:
    found = flag(FlagCode.UNKNOWN_PARTICIPANT, "KPJ 1 tidak dikenal.")
    assert found.message == message_for(FlagCode.UNKNOWN_PARTICIPANT)
    assert found.detail == "KPJ 1 tidak dikenal."


def test_rupiah_uses_dots_for_thousands() -> None:
    assert rupiah(48_000_000) == "Rp48.000.000"
    assert rupiah(16_800) == "Rp16.800"
    assert rupiah(0) == "Rp0"
    assert rupiah(-5_000) == "-Rp5.000"
