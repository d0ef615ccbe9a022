"""Indonesian words and number formats the dashboard and its reports show to officers.

Codes travel in events and stay stable; the short labels here may be reworded freely. An unknown
code (a new reason added by another service) is shown as the code itself, never dropped.
"""

from __future__ import annotations

from libs.regions import all_regions, region_by_code

REJECTION_LABELS: dict[str, str] = {
    "NIK_FORMAT": "Format NIK salah",
    "NIK_PROVINCE": "NIK bukan dari Sumatera Utara",
    "NIK_REGENCY_UNKNOWN": "Kode kab/kota pada NIK tidak dikenal",
    "NIK_SUBDISTRICT_ZERO": "Kode kecamatan pada NIK 00",
    "NIK_BIRTHDATE_INVALID": "Tanggal lahir pada NIK tidak sah",
    "NIK_SERIAL_ZERO": "Nomor urut NIK 0000",
    "NIK_BIRTHDATE_MISMATCH": "Tanggal lahir tidak sesuai NIK",
    "NIK_SEX_MISMATCH": "Jenis kelamin tidak sesuai NIK",
    "NIK_REGENCY_MISMATCH": "NIK dari kabupaten/kota lain",
    "NAME_MISSING": "Nama kosong",
    "KECAMATAN_MISSING": "Kecamatan kosong",
    "DESA_MISSING": "Desa/kelurahan kosong",
    "SEX_INVALID": "Jenis kelamin tidak dikenal",
    "SECTOR_INVALID": "Sektor tidak dikenal",
    "REGENCY_UNKNOWN": "Kabupaten/kota pengusul tidak dikenal",
    "PERIOD_INVALID": "Periode program tidak sah",
    "OCCUPATION_NOT_ALLOWED": "Pekerjaan di luar daftar program",
    "AGE_BELOW_MIN": "Usia di bawah batas minimal",
    "AGE_ABOVE_MAX": "Usia di atas batas maksimal",
    "NOT_IN_P3KE_OR_DTKS": "Tidak ada di P3KE maupun DTKS",
    "DECILE_NOT_ALLOWED": "Desil P3KE di luar ketentuan",
    "ALREADY_BPJS_PARTICIPANT": "Sudah peserta aktif BPJS TK",
    "DUPLICATE_NOMINATION": "Sudah diusulkan pihak lain",
    "DUPLICATE_IN_UPLOAD": "Ganda dalam berkas unggahan",
    "REGENCY_OUTSIDE_JURISDICTION": "Kab/kota di luar wilayah program",
    "NO_SEAT_IN_PROGRAMME": "Tidak ada kuota untuk kab/kota dan sektor ini",
    "NIK_KECAMATAN_UNKNOWN": "Kode kecamatan pada NIK tidak ada",
    "KECAMATAN_UNKNOWN": "Kecamatan tidak ada di kab/kota ini",
    "DESA_UNKNOWN": "Desa/kelurahan tidak ditemukan",
    "DTKS_NOT_ACCEPTED": "Hanya DTKS: program mensyaratkan P3KE",
}

ENROLMENT_FAILURE_LABELS: dict[str, str] = {
    "NIK_NOT_FOUND": "NIK tidak ditemukan BPJS",
    "ALREADY_REGISTERED": "Sudah terdaftar di BPJS",
    "AGE_OUT_OF_RANGE": "Usia di luar ketentuan BPJS",
    "DUKCAPIL_UNAVAILABLE": "Dukcapil tidak dapat dihubungi",
    "TIMEOUT": "BPJS tidak menjawab",
    "KPJ_MISMATCH": "KPJ tidak sesuai NIK",
    "KPJ_UNKNOWN": "KPJ tidak dikenal BPJS",
    "OTHER": "Alasan lain",
}

CLAIM_FLAG_LABELS: dict[str, str] = {
    "UNKNOWN_PARTICIPANT": "Peserta tidak dikenal",
    "INCIDENT_OUTSIDE_COVERAGE": "Kejadian di luar masa perlindungan",
    "BENEFIT_NOT_IN_PROGRAMME": "Manfaat tidak ditanggung program",
    "AMOUNT_ABOVE_BENEFIT": "Melebihi batas manfaat",
    "DUPLICATE_DEATH_CLAIM": "Klaim kematian ganda",
    "CLAIM_AMOUNT_CHANGED": "Jumlah klaim berubah",
    "CLAIM_DETAILS_CHANGED": "Data klaim berubah",
    "BEFORE_ENROLLMENT": "Kejadian sebelum terdaftar di BPJS",
    "IN_LAPSE": "Kejadian saat kepesertaan terhenti",
    "MONTH_NOT_PAID": "Iuran bulan kejadian belum dibayar",
    "COVERAGE_ENDED": "Kejadian setelah perlindungan program berakhir",
    "MEMBERSHIP_ENDED": "Kejadian setelah kepesertaan BPU berakhir",
    "JKK_CLAIM_WINDOW_PASSED": "Klaim JKK melewati batas waktu",
    "SCHOLARSHIP_MEMBERSHIP_TOO_SHORT": "Beasiswa sebelum 3 tahun kepesertaan",
}

SECTOR_LABELS: dict[str, str] = {"sawit": "Sawit", "non_sawit": "Non-sawit"}

FUNDER_LABELS: dict[str, str] = {
    "APBD_PROVINSI": "APBD Provinsi",
    "APBD_KABUPATEN": "APBD Kabupaten/Kota",
    "DBH_SAWIT": "DBH Sawit",
    "SILPA_DBH_SAWIT": "SILPA DBH Sawit",
    "OTHER": "Lainnya",
}

CLAIM_TYPE_LABELS: dict[str, str] = {"JKK": "JKK (kecelakaan kerja)", "JKM": "JKM (kematian)"}

# The funnel, in the order of the process (DOMAIN.md "The process").
FUNNEL_LABELS: dict[str, str] = {
    "nominated": "Diusulkan",
    "validated": "Lolos verifikasi",
    "assigned": "Mendapat kuota",
    "decreed": "Ditetapkan SK",
    "enrolled": "Terdaftar BPJS",
}

COUNTER_LABELS: dict[str, str] = {
    **FUNNEL_LABELS,
    "rejected": "Ditolak",
    "withdrawn": "Dibatalkan",
    "waitlisted": "Daftar tunggu",
    "released": "Kuota dilepas",
    "failed": "Gagal daftar BPJS",
    "lapsed": "Kepesertaan berhenti",
    "seats": "Kuota",
}

BULAN_SINGKAT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
PROVINCE_NAME = "Provinsi Sumatera Utara"
# Kemendagri order of the 33 regencies/cities: tables list them the way officers expect.
REGION_ORDER: dict[str, int] = {r.kemendagri_code: i for i, r in enumerate(all_regions())}


def label(table: dict[str, str], code: str) -> str:
    """The label of `code` in `table`, or the code itself when the table does not know it."""
    return table.get(code, code)


def regency_name(code: str) -> str:
    """The official name of a Kemendagri code ("Kabupaten Samosir"); unknown codes stay visible."""
    region = region_by_code(code)
    return region.official_name if region else f"Tidak dikenal ({code})"


def number(value: int) -> str:
    """12345 -> "12.345" (Indonesian digit grouping)."""
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,}".replace(",", ".")


def rupiah(value: int) -> str:
    """4210000000 -> "Rp4.210.000.000"."""
    sign = "-" if value < 0 else ""
    return f"{sign}Rp{number(abs(value))}"


def percent(part: int, whole: int) -> str:
    """Share of `whole` with one decimal and a decimal comma: "45,6%" ("–" when whole is 0)."""
    if whole <= 0:
        return "–"
    tenths = (part * 1000 + whole // 2) // whole
    return f"{tenths // 10},{tenths % 10}%"


def month_label(month: str) -> str:
    """A YYYY-MM month as officers read it: "2025-03" -> "Mar 2025"."""
    year, mon = month.split("-")
    return f"{BULAN_SINGKAT[int(mon) - 1]} {year}"
