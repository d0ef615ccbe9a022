"""Where a nomination comes from and may go: the regency that issued the NIK against the one
nominating, the kecamatan and desa on the form, the programme's jurisdiction and its seats.
Each rule a pure function returning its rejections (rules.py runs them all)."""

from __future__ import annotations

from libs.regions import (
    PROVINCE_CODE,
    find_desa,
    find_kecamatan,
    kecamatan_by_code,
    kecamatan_of_regency,
    region_by_code,
)
from services.registry.domain.nik import ParsedNik, normalize_nik
from services.registry.domain.nomination import SECTORS, NominationInput, ValidationPolicy
from services.registry.domain.reasons import ReasonCode, Rejection, reject


def check_nik_regency(parsed: ParsedNik, nominating_regency_code: str) -> list[Rejection]:
    """The NIK must have been issued in the nominating regency.

    A NIK keeps its region for life, so this also rejects residents who moved in from another
    regency; whether to apply it is a programme setting (``nik_regency_must_match``).
    An unknown nominating regency is reported by :func:`check_regency`, not here.
    """
    names = issued_elsewhere(parsed.regency_code, nominating_regency_code)
    return [reject(ReasonCode.NIK_REGENCY_MISMATCH, **names)] if names else []


def issued_elsewhere(nik_regency_code: str, nominating_regency_code: str) -> dict[str, str] | None:
    """Both regencies by name when the NIK was issued in another regency than the nominating one."""
    nominating = region_by_code(nominating_regency_code)
    issued_in = region_by_code(nik_regency_code)
    if nominating is None or issued_in is None or nominating == issued_in:
        return None
    return {"nik_regency": issued_in.official_name, "nominating_regency": nominating.official_name}


def nik_regency_note(nik_regency_code: str, nominating_regency_code: str) -> list[Rejection]:
    """A note (not a rejection) when the NIK was issued in another regency than the nominating one
    (``nik_regency_code``: "12.71", or a NIK's first four digits).

    A NIK never changes when its holder moves (DOMAIN.md): a reason to look twice, not to refuse,
    unless the programme says so (``nik_regency_must_match``: :func:`check_nik_regency`).
    """
    names = issued_elsewhere(nik_regency_code, nominating_regency_code)
    return [reject(ReasonCode.NIK_ISSUED_ELSEWHERE, **names)] if names else []


def nik_out_of_scope(nik: str, nominating_regency_code: str) -> bool:
    """True when the NIK's region digits (1-4) name another North Sumatra regency than the
    nominating one: the person is registered elsewhere, so what Lindung knows of them (P3KE desil,
    DTKS, KPJ, other nominations) is not this regency's to read (docs/security.md).

    Read from the digits alone, so a NIK whose other parts are wrong is placed too.
    """
    digits = normalize_nik(nik)
    if len(digits) != 16 or not digits.isdigit():
        return False
    return issued_elsewhere(f"{digits[:2]}.{digits[2:4]}", nominating_regency_code) is not None


def check_nik_kecamatan(parsed: ParsedNik) -> list[Rejection]:
    """The NIK's kecamatan digits (5–6) must name a kecamatan of the regency that issued it."""
    code = f"{parsed.regency_code}.{parsed.subdistrict}"
    issued_in = region_by_code(parsed.regency_code)
    if issued_in is None or kecamatan_by_code(code) is not None:
        return []
    return [
        reject(ReasonCode.NIK_KECAMATAN_UNKNOWN, kecamatan_code=code, nik_regency=issued_in.official_name)
    ]


def check_kecamatan(kecamatan: str, regency_code: str) -> list[Rejection]:
    """The form's kecamatan must be one of the nominating regency's (names matched leniently).

    A blank kecamatan is reported by :func:`check_required_fields`, an unknown regency by
    :func:`check_regency`.
    """
    region = region_by_code(regency_code)
    if region is None or not kecamatan.strip() or find_kecamatan(region.kemendagri_code, kecamatan):
        return []
    known = ", ".join(k.name for k in kecamatan_of_regency(region.kemendagri_code))
    return [
        reject(
            ReasonCode.KECAMATAN_UNKNOWN,
            kecamatan=kecamatan.strip(),
            regency=region.official_name,
            known=known,
        )
    ]


def find_village(nomination: NominationInput, policy: ValidationPolicy) -> tuple[str | None, list[Rejection]]:
    """The official code of the form's desa/kelurahan, looked up in its kecamatan.

    Not finding it is a rejection only for a programme capping seats per village: there the code
    decides which village's seats the worker takes, so a guess would take someone else's.
    """
    region = region_by_code(nomination.regency_code)
    if region is None:
        return None, []
    kecamatan = find_kecamatan(region.kemendagri_code, nomination.kecamatan)
    desa = find_desa(region.kemendagri_code, nomination.desa, kecamatan.code) if kecamatan else None
    if desa is not None:
        return desa.code, []
    if policy.village_cap is None or kecamatan is None or not nomination.desa.strip():
        return None, []
    return None, [reject(ReasonCode.DESA_UNKNOWN, desa=nomination.desa.strip(), kecamatan=kecamatan.name)]


def check_jurisdiction(regency_code: str, policy: ValidationPolicy) -> list[Rejection]:
    """A regency's programme takes its own regency's workers only; the province's, every regency's."""
    region = region_by_code(regency_code)
    if region is None or policy.jurisdiction in (PROVINCE_CODE, region.kemendagri_code):
        return []
    home = region_by_code(policy.jurisdiction)
    return [
        reject(
            ReasonCode.REGENCY_OUTSIDE_JURISDICTION,
            regency=region.official_name,
            jurisdiction=policy.jurisdiction,
            jurisdiction_name=home.official_name if home else policy.jurisdiction,
        )
    ]


SECTOR_NAMES = {"sawit": "sawit", "non_sawit": "non-sawit"}


def check_seat(regency_code: str, sector: str, policy: ValidationPolicy) -> list[Rejection]:
    """The programme's quota must hold seats for the regency × sector: without one the worker
    would wait for ever (and, waiting, keep another funder from taking them)."""
    region = region_by_code(regency_code)
    cleaned = sector.strip().lower()
    if region is None or cleaned not in SECTORS or (region.kemendagri_code, cleaned) in policy.seated_cells:
        return []
    return [
        reject(
            ReasonCode.NO_SEAT_IN_PROGRAMME,
            regency=region.official_name,
            regency_code=region.kemendagri_code,
            sector=cleaned,
            sector_name=SECTOR_NAMES[cleaned],
        )
    ]
