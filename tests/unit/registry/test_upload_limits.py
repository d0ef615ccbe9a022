"""An uploaded XLSX is checked on its zip directory before openpyxl opens it; a CSV is read as a
stream; openpyxl parses with defusedxml."""

from __future__ import annotations

import io
import zipfile

import pytest

from services.registry.adapters.upload import UploadError, ZipLimits, check_zip, read_upload
from services.registry.domain.answers import AnswerCode

LIMITS = ZipLimits(max_uncompressed_bytes=10 * 1024 * 1024, max_ratio=50)


def zip_declaring(size: int, data: bytes = b"<x/>") -> io.BytesIO:
    """A zip whose one sheet member says (in the central directory) it inflates to `size` bytes."""
    buf = io.BytesIO()
    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED)
    archive.writestr("xl/worksheets/sheet1.xml", data)
    archive.filelist[0].file_size = size
    archive.close()
    buf.seek(0)
    return buf


def refused_code(stream: io.BytesIO) -> AnswerCode:
    with pytest.raises(UploadError) as refused:
        check_zip(stream, LIMITS)
    return refused.value.answer.code


def test_a_member_declared_huge_is_refused_from_the_directory() -> None:
    assert refused_code(zip_declaring(2**40)) is AnswerCode.UPLOAD_TOO_LARGE_UNCOMPRESSED


def test_a_member_inflating_beyond_the_ratio_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (5 * 1024 * 1024))  # ~1000:1
    buf.seek(0)
    assert refused_code(buf) is AnswerCode.UPLOAD_TOO_LARGE_UNCOMPRESSED


def test_an_ordinary_zip_passes() -> None:
    check_zip(zip_declaring(4), LIMITS)


def test_read_upload_refuses_the_bomb_before_opening_it() -> None:
    with pytest.raises(UploadError) as refused:
        read_upload(zip_declaring(2**40).getvalue(), "usulan.xlsx", zip_limits=LIMITS)
    assert refused.value.answer.code is AnswerCode.UPLOAD_TOO_LARGE_UNCOMPRESSED
    assert "bita" in refused.value.answer.message


def test_openpyxl_parses_with_defusedxml() -> None:
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML  # defusedxml is installed (a dependency) and not disabled


def test_a_csv_is_read_from_a_file_as_a_stream() -> None:
    header = "NIK;Nama;Tanggal Lahir;Jenis Kelamin;Pekerjaan;Kecamatan;Desa;Sektor\n"
    row = "1217054507880001;Rosmawati Sinaga;05-07-1988;P;petani;Pangururan;Pintu Sona;sawit\n"
    spool = io.BytesIO((header + row * 3).encode("cp1252"))
    table = read_upload(spool, "usulan.csv")
    assert len(table.rows) == 3 and table.rows[0].fields["full_name"] == "Rosmawati Sinaga"
    assert not spool.closed  # the caller's file is left open


def test_a_csv_in_the_windows_code_page_is_decoded_so() -> None:
    header = "NIK,Nama,Tanggal Lahir,Jenis Kelamin,Pekerjaan,Kecamatan,Desa,Sektor\n"
    row = "1217054507880001,Rosmawati Sitompul \xe9,05-07-1988,P,petani,Pangururan,Pintu Sona,sawit\n"
    table = read_upload(io.BytesIO((header + row).encode("cp1252")))
    assert table.rows[0].fields["full_name"] == "Rosmawati Sitompul \xe9"
