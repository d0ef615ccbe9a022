"""The upload parser: bytes of a regency's CSV or XLSX list in, rows out (no I/O)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from services.registry.adapters.upload import (
    UploadError,
    normalise_header,
    read_date,
    read_decile,
    read_nik,
    read_phone,
    read_sector,
    read_sex,
    read_upload,
)
from services.registry.domain.answers import AnswerCode

NIK = "1217054507880001"
HEADER = "NIK,Nama,Tanggal Lahir,Jenis Kelamin,Pekerjaan,Kecamatan,Desa/Kelurahan,Sektor"
ROW = f"{NIK},Rosmawati Sinaga,05-07-1988,P,petani,Pangururan,Lumban Suhi Suhi,non sawit"


def csv_bytes(*lines: str, separator: str = ",", encoding: str = "utf-8") -> bytes:
    return "\r\n".join(line.replace(",", separator) for line in lines).encode(encoding)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("NIK", "nik"),
        ("No. KTP", "nik"),
        ("Nomor Induk Kependudukan", "nik"),
        ("Nama Lengkap", "full_name"),
        ("NAMA", "full_name"),
        ("Tgl Lahir", "birth_date"),
        ("Tanggal Lahir (DD-MM-YYYY)", "birth_date"),
        ("Tempat, Tanggal Lahir", "birth_date"),
        ("L/P", "sex"),
        ("Jenis  Kelamin", "sex"),
        ("JK", "sex"),
        ("Desa/Kelurahan", "desa"),
        ("Kel/Desa", "desa"),
        ("Kelurahan", "desa"),
        ("No. HP", "phone"),
        ("No HP", "phone"),
        ("Nomor HP/WA", "phone"),
        ("Sektor (sawit/non-sawit)", "sector"),
        ("Desil P3KE", "decile"),
        ("Nama Ibu Kandung", None),
        ("No", None),
    ],
)
def test_headers_are_recognised_whatever_their_case_spacing_and_notes(header: str, field: str | None) -> None:
    from services.registry.adapters.upload import _FIELD_OF

    assert _FIELD_OF.get(normalise_header(header)) == field


def test_a_semicolon_csv_with_a_title_row_in_the_windows_code_page() -> None:
    content = csv_bytes(
        "DAFTAR USULAN KABUPATEN SAMOSIR;;;",
        "No," + HEADER + ",Nama Ibu",
        "1," + ROW.replace("Rosmawati", "Rosmawatì") + ",Ibu",
        separator=";",
        encoding="cp1252",
    )
    table = read_upload(content, "usulan.csv")
    assert table.format == "csv" and table.header_row == 2
    assert table.ignored_columns == ["No", "Nama Ibu"]
    (row,) = table.rows
    assert row.row == 3 and row.problems == ()
    assert row.fields == {
        "nik": NIK,
        "full_name": "Rosmawatì Sinaga",
        "birth_date": date(1988, 7, 5),
        "sex": "P",
        "occupation": "petani",
        "kecamatan": "Pangururan",
        "desa": "Lumban Suhi Suhi",
        "address": "",
        "phone": None,
        "sector": "non_sawit",
        "decile": None,
    }


def test_blank_lines_are_skipped_and_row_numbers_follow_the_file() -> None:
    table = read_upload(csv_bytes(HEADER, ROW, ",,,,,,,", "", ROW.replace("0001", "0002")))
    assert [r.row for r in table.rows] == [2, 5]


def test_an_unreadable_cell_is_a_problem_of_its_row_not_of_the_file() -> None:
    bad = ROW.replace("05-07-1988", "31-02-1988")
    table = read_upload(csv_bytes(HEADER + ",Desil", bad + ",11", ROW + ",2"))
    first, second = table.rows
    assert [p.code for p in first.problems] == [AnswerCode.BIRTH_DATE_NONEXISTENT, AnswerCode.DECILE_INVALID]
    assert "birth_date" not in first.fields
    # The date is well written but does not exist: say so, not that its format is wrong.
    assert first.problems[0].message == (
        "Tanggal lahir '31-02-1988' tidak ada di kalender: Februari 1988 hanya 29 hari."
    )
    assert second.problems == () and second.fields["decile"] == 2


def test_missing_required_columns_refuse_the_file_naming_them() -> None:
    with pytest.raises(UploadError) as refused:
        read_upload(csv_bytes("NIK,Nama,Pekerjaan", f"{NIK},A,petani"))
    assert refused.value.answer.code is AnswerCode.UPLOAD_COLUMNS_MISSING
    assert (
        refused.value.answer.details["columns"]
        == "tanggal lahir, jenis kelamin, kecamatan, desa/kelurahan, sektor"
    )


def test_old_xls_and_too_many_rows_are_refused() -> None:
    with pytest.raises(UploadError) as xls:
        read_upload(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "a.xls")
    assert xls.value.answer.code is AnswerCode.UPLOAD_UNREADABLE
    with pytest.raises(UploadError) as large:
        read_upload(csv_bytes(HEADER, ROW, ROW, ROW), max_rows=2)
    assert large.value.answer.code is AnswerCode.UPLOAD_TOO_LARGE


def xlsx(*sheets: list[list[object]]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for index, rows in enumerate(sheets):
        sheet = book.create_sheet(f"Sheet{index}")
        for row in rows:
            sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_a_cover_sheet_number_niks_and_date_cells() -> None:
    header = [
        "NIK",
        "Nama",
        "Tanggal Lahir",
        "Jenis Kelamin",
        "Pekerjaan",
        "Kecamatan",
        "Desa",
        "Sektor",
        "No HP",
    ]
    content = xlsx(
        [["Petunjuk pengisian"], ["Isi satu baris per pekerja"]],
        [
            ["USULAN 2026"],
            header,
            [
                int(NIK),
                "Rosmawati",
                datetime(1988, 7, 5),
                "Perempuan",
                "petani",
                "P",
                "D",
                "Non-Sawit",
                81361234567,
            ],
            [float(NIK), "Rosmawati", 32329, "P", "petani", "P", "D", "SAWIT", None],
        ],
    )
    table = read_upload(content, "usulan.xlsx")
    assert table.format == "xlsx" and table.header_row == 2
    first, second = table.rows
    assert first.fields["nik"] == NIK and first.fields["birth_date"] == date(1988, 7, 5)
    assert first.fields["phone"] == "081361234567" and first.fields["sector"] == "non_sawit"
    assert second.fields["nik"] == NIK and second.fields["birth_date"] == date(1988, 7, 5)
    assert second.fields["sector"] == "sawit"


def test_a_broken_xlsx_is_refused() -> None:
    with pytest.raises(UploadError) as broken:
        read_upload(b"PK\x03\x04broken", "a.xlsx")
    assert broken.value.answer.code is AnswerCode.UPLOAD_UNREADABLE


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("05-07-1988", date(1988, 7, 5)),
        ("5/7/1988", date(1988, 7, 5)),
        ("05.07.1988", date(1988, 7, 5)),
        ("1988-07-05", date(1988, 7, 5)),
        ("1988-07-05 00:00:00", date(1988, 7, 5)),
        ("5 Juli 1988", date(1988, 7, 5)),
        ("05-Jul-1988", date(1988, 7, 5)),
        ("17 Agustus 1945", date(1945, 8, 17)),
        ("Pangururan, 05-07-1988", date(1988, 7, 5)),
        ("32329", date(1988, 7, 5)),
        (32329, date(1988, 7, 5)),
        (datetime(1988, 7, 5, 0, 0), date(1988, 7, 5)),
        ("31-02-1988", None),
        ("07-05-88", None),
        ("", None),
        ("kemarin", None),
        (0, None),
    ],
)
def test_birth_dates_in_the_forms_officers_write_them(written: object, expected: date | None) -> None:
    assert read_date(written) == expected


_FORMATS = ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y")


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2030, 12, 31)), st.sampled_from(_FORMATS))
def test_any_date_written_in_a_supported_format_reads_back(day: date, fmt: str) -> None:
    assert read_date(day.strftime(fmt)) == day


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(2118, 12, 31)))
def test_any_excel_serial_reads_back_as_its_date(day: date) -> None:
    serial = (day - date(1899, 12, 30)).days
    assert read_date(serial) == day and read_date(float(serial) + 0.5) == day
    assert date(1899, 12, 30) + timedelta(days=serial) == day


@given(st.text(alphabet="0123456789", min_size=16, max_size=16), st.sampled_from([" ", "  ", ".", "-"]))
def test_niks_come_back_as_sixteen_digits_whatever_the_separators(nik: str, sep: str) -> None:
    spaced = sep.join(nik[i : i + 4] for i in range(0, 16, 4))
    assert read_nik(spaced) == nik
    assert read_nik("'" + nik) == nik
    assert read_nik(int(nik)) == str(int(nik))


def test_a_nik_excel_already_destroyed_stays_as_written() -> None:
    assert read_nik("1,21705E+15") == "1,21705E+15"
    assert read_nik("12170545O7880001") == "12170545O7880001"


@pytest.mark.parametrize(
    ("written", "sex"),
    [("L", "L"), ("l", "L"), ("Laki-laki", "L"), ("LAKI LAKI", "L"), ("Lk", "L"), ("Pria", "L"),
     ("P", "P"), ("Perempuan", "P"), ("wanita", "P"), ("Pr", "P"), ("X", "X"), ("", "")],
)  # fmt: skip
def test_sex_words(written: str, sex: str) -> None:
    assert read_sex(written) == sex


@pytest.mark.parametrize(
    ("written", "sector"),
    [("sawit", "sawit"), ("SAWIT", "sawit"), ("Kelapa Sawit", "sawit"), ("non sawit", "non_sawit"),
     ("Non-Sawit", "non_sawit"), ("non_sawit", "non_sawit"), ("NONSAWIT", "non_sawit"), ("kopi", "kopi")],
)  # fmt: skip
def test_sector_words(written: str, sector: str) -> None:
    assert read_sector(written) == sector


@pytest.mark.parametrize(
    ("written", "decile"),
    [("", None), ("-", None), (None, None), ("1", 1), ("2.0", 2), (2.0, 2), ("Desil 2", 2), ("10", 10),
     ("0", "invalid"), ("11", "invalid"), ("1-2", "invalid")],
)  # fmt: skip
def test_deciles(written: object, decile: object) -> None:
    assert read_decile(written) == decile


def test_phones_keep_their_leading_zero() -> None:
    assert read_phone(81361234567) == "081361234567"
    assert read_phone("0813 6123 4567") == "0813 6123 4567"
    assert read_phone("") is None
