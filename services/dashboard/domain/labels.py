"""Indonesian words the dashboard and its reports show to officers (numbers, money and month names
are written the one way of libs/wording.py, re-exported here as the reports' one vocabulary).

Codes travel in events and stay stable; the short labels here may be reworded freely. An unknown
code (a new reason added by another service) is shown as the code itself, never dropped.
"""

from __future__ import annotations

from libs.regions import all_regions, desa_of_kecamatan, kecamatan_by_code, region_by_code
from libs.wording import bulan_tahun
from libs.wording import number as number
from libs.wording import rupiah as rupiah

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
    "pending": "Menunggu verifikasi",
    "decided": "Diputuskan alokasi",
    "declined": "Ditanggung program lain",
    "requested": "Diminta daftar BPJS",
    "failed": "Gagal daftar BPJS",
    "registering": "Menunggu jawaban BPJS",
    "lapsed": "Pernah terhenti (tunggakan)",
    "in_arrears": "Menunggak sekarang",
    "membership_ended": "Kepesertaan BPU berakhir",
    "seats": "Kuota",
}

RELEASE_LABELS: dict[str, str] = {
    "withdrawn": "Dibatalkan pengusul",
    "died": "Meninggal dunia",
    "removed_by_decree": "Dikeluarkan oleh SK perubahan",
    "held_by_other_programme": "Ditanggung program lain",
    "enrollment_failed": "Gagal daftar BPJS",
    "membership_ended": "Kepesertaan BPU berakhir",
}

WAITLIST_LABELS: dict[str, str] = {
    "no_seat": "Kuota penuh",
    "no_budget": "Anggaran tidak cukup",
    "village_full": "Batas per desa tercapai",
}

CLAIM_KIND_LABELS: dict[str, str] = {
    "MEDICAL": "Perawatan dan pengobatan",
    "STMB": "Sementara tidak mampu bekerja",
    "DISABILITY": "Cacat",
    "DEATH": "Santunan kematian",
    "FUNERAL": "Biaya pemakaman",
    "LUMP_SUM": "Santunan sekaligus",
    "PERIODIC": "Santunan berkala",
    "SCHOLARSHIP": "Beasiswa anak",
}
OTHERS = "lainnya"

PROVINCE_NAME = "Provinsi Sumatera Utara"
# Workers whose desa and NIK name no kecamatan of the regency (or whose NIK is forgotten).
UNKNOWN_KECAMATAN_NAME = "Kecamatan tidak diketahui"
# Kemendagri order of the 33 regencies/cities: tables list them the way officers expect.
REGION_ORDER: dict[str, int] = {r.kemendagri_code: i for i, r in enumerate(all_regions())}


def label(table: dict[str, str], code: str) -> str:
    """The label of `code` in `table`, or the code itself when the table does not know it."""
    return table.get(code, code)


def regency_name(code: str) -> str:
    """The official name of a Kemendagri code ("Kabupaten Samosir"); unknown codes stay visible."""
    region = region_by_code(code)
    return region.official_name if region else f"Tidak dikenal ({code})"


def desa_name(code: str) -> str:
    """ "12.17.08.2001" -> "Lumban Suhi Suhi, Kec. Pangururan"; unknown codes stay visible."""
    kecamatan = kecamatan_by_code(code[:8])
    desa = next((d for d in desa_of_kecamatan(code[:8]) if d.code == code), None)
    if desa is None or kecamatan is None:
        return f"Tidak dikenal ({code})"
    return f"{desa.name}, Kec. {kecamatan.name}"


def percent_tenths(part: int, whole: int) -> int | None:
    """The share of `whole` in tenths of a percent, rounded half up, except that a shortfall is
    never rounded up to 100% (20,871 of 20,877 is 999, "99,9%"): the one rounding rule of every
    percentage the dashboard shows (API labels, PDF, XLSX; the page's script repeats it).
    None when whole is 0."""
    if whole <= 0:
        return None
    tenths = (part * 1000 + whole // 2) // whole
    if part < whole:
        tenths = min(tenths, 999)
    return tenths


def percent(part: int, whole: int) -> str:
    """Share of `whole` with one decimal and a decimal comma: "45,6%" ("–" when whole is 0)."""
    tenths = percent_tenths(part, whole)
    return "–" if tenths is None else percent_of_tenths(tenths)


def percent_of_tenths(tenths: int) -> str:
    """999 -> "99,9%"."""
    sign = "-" if tenths < 0 else ""
    return f"{sign}{abs(tenths) // 10},{abs(tenths) % 10}%"


def month_label(month: str) -> str:
    """A YYYY-MM month as officers read it: "2025-03" -> "Mar 2025"."""
    year, mon = month.split("-")
    return bulan_tahun(int(year), int(mon), short=True)


# What each figure counts, and from which events: the "Definisi" page of the reports (the same
# definitions, in English, are in docs/dashboard.md "Figures").
DEFINITIONS: tuple[tuple[str, str, str], ...] = (
    (
        "Diusulkan",
        "Usulan pekerja ke program (usulan yang ditolak lalu diperbaiki dihitung sekali)",
        "WorkerNominated, NominationCorrected",
    ),
    ("Lolos verifikasi", "Usulan yang lolos verifikasi dan tidak dibatalkan", "WorkerValidated"),
    (
        "Ditolak",
        "Usulan yang ditolak dan tidak dibatalkan (per alasan: satu usulan bisa punya beberapa alasan)",
        "WorkerRejected",
    ),
    (
        "Dibatalkan",
        "Usulan yang dibatalkan pengusul (pindah, meninggal, ...), apa pun keputusan sebelumnya",
        "NominationWithdrawn",
    ),
    ("Menunggu verifikasi", "Usulan yang belum diputuskan", "WorkerNominated tanpa keputusan"),
    (
        "Diputuskan alokasi",
        "Pekerja yang sudah diputuskan alokasinya: mendapat kuota, menunggu, "
        "ditanggung program lain, atau kuota dilepas",
        "QuotaAssigned, QuotaWaitlisted, QuotaDeclined, QuotaReleased",
    ),
    ("Mendapat kuota", "Pekerja yang memegang kuota sekarang", "QuotaAssigned"),
    ("Daftar tunggu", "Pekerja yang menunggu kuota sekarang", "QuotaWaitlisted, QuotaUnseated"),
    (
        "Ditanggung program lain",
        "Pekerja yang sudah ditanggung program lain yang tumpang tindih",
        "QuotaDeclined",
    ),
    (
        "Kuota dilepas",
        "Kuota yang dikembalikan (dibatalkan, meninggal, SK perubahan, gagal daftar, "
        "kepesertaan berakhir, ditanggung program lain)",
        "QuotaReleased",
    ),
    ("Kuota", "Kursi per kabupaten/kota dan sektor", "ProgrammeDefined, QuotaChanged"),
    (
        "Ditetapkan SK",
        "Pemegang kuota yang namanya ada dalam SK (0 bila program tidak wajib SK)",
        "AssignmentDecreed",
    ),
    ("SK perubahan", "SK yang terbit setelah SK pertama", "DecreeIssued"),
    (
        "Diminta daftar BPJS",
        "Pendaftaran ke BPJS yang sudah jatuh tempo (setelah SK, atau langsung bila "
        "tidak wajib SK): terdaftar + gagal + menunggu jawaban",
        "QuotaAssigned, AssignmentDecreed",
    ),
    ("Terdaftar BPJS", "Pemegang kuota yang terdaftar di BPJS", "EnrolledAtBPJS"),
    ("Gagal daftar BPJS", "Pendaftaran yang ditolak BPJS", "EnrollmentFailed"),
    (
        "Pernah terhenti",
        "Pekerja yang perlindungannya pernah terhenti karena iuran tertunggak",
        "CoverageLapsed",
    ),
    (
        "Menunggak sekarang",
        "Pemegang kuota yang perlindungannya terhenti sekarang (belum dipulihkan)",
        "CoverageLapsed, CoverageRestored",
    ),
    (
        "Kepesertaan BPU berakhir",
        "Pekerja yang kepesertaannya diakhiri BPJS karena tunggakan melewati batas",
        "MembershipEnded",
    ),
    (
        "Anggaran terikat",
        "Pemegang kuota × biaya per pekerja ((JKK + JKM) × bulan)",
        "QuotaAssigned, ProgrammeDefined",
    ),
    ("Iuran ditagih", "Jumlah tagihan iuran per bulan dan sumber dana", "PremiumBilled"),
    ("Iuran dibayar", "Iuran yang dikonfirmasi BPJS per bulan dan sumber dana", "PremiumPaid"),
    (
        "Klaim",
        "Klaim yang dibayar BPJS, per bulan pembayaran, program (JKK/JKM) dan jenis manfaat",
        "ClaimRecorded",
    ),
    ("Klaim ditandai", "Klaim dengan sedikitnya satu tanda untuk diperiksa", "ClaimFlagged"),
    (
        "Persentase",
        "Dibulatkan ke satu desimal, kecuali kekurangan tidak pernah dibulatkan menjadi 100% "
        "(20.871 dari 20.877 = 99,9%)",
        "-",
    ),
)
