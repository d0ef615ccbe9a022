"""The eligibility rules for a nomination, each a pure function returning its rejections.

An empty list means the rule passes. :func:`validate_nomination` runs them all in a fixed order
and reports every rejection at once, so an officer can correct a row in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from libs.regions import (
    region_by_code,
)
from libs.wording import tanggal
from services.registry.domain.nik import (
    ParsedNik,
    check_nik_against_stated,
    normalize_nik,
    parse_nik,
    parse_sex,
)
from services.registry.domain.nomination import (
    SECTORS,
    ExistingNomination,
    NominationInput,
    PovertySource,
    ValidationContext,
    ValidationPolicy,
)
from services.registry.domain.occupations import occupation_key, same_work
from services.registry.domain.place import (
    check_jurisdiction,
    check_kecamatan,
    check_nik_kecamatan,
    check_nik_regency,
    check_seat,
    find_village,
    issued_elsewhere,
    nik_out_of_scope,
    nik_regency_note,
)
from services.registry.domain.reasons import ReasonCode, Rejection, reject, withheld

__all__ = [
    "ExistingNomination",
    "NominationInput",
    "PovertyDecision",
    "PovertySource",
    "ValidationContext",
    "ValidationOutcome",
    "ValidationPolicy",
    "age_on",
    "check_age",
    "check_bpjs_participation",
    "check_duplicates",
    "check_jurisdiction",
    "check_kecamatan",
    "check_nik_kecamatan",
    "check_nik_regency",
    "check_occupation",
    "check_period",
    "check_poverty",
    "check_regency",
    "check_required_fields",
    "check_seat",
    "check_sector",
    "check_sex",
    "find_duplicates_in_upload",
    "find_village",
    "nik_out_of_scope",
    "nik_regency_note",
    "normalize_occupation",
    "validate_nomination",
]


@dataclass(frozen=True, slots=True)
class PovertyDecision:
    """Which data set showed the worker poor or vulnerable (None if none did), and why not."""

    source: PovertySource | None
    rejections: list[Rejection]


@dataclass(frozen=True, slots=True)
class ValidationOutcome:
    """Everything validation found: all rejections, and what decided poverty.

    ``poverty_source`` lets the caller record which reference-data version was used.
    """

    rejections: tuple[Rejection, ...]
    poverty_source: PovertySource | None
    parsed_nik: ParsedNik | None
    # What the officer should see with an accepted nomination (ReasonCode.NIK_ISSUED_ELSEWHERE).
    notes: tuple[Rejection, ...] = ()
    # The official desa/kelurahan code of the form's village, when found in its kecamatan.
    desa_code: str | None = None

    @property
    def accepted(self) -> bool:
        """True when no rule rejected the nomination."""
        return not self.rejections


def check_required_fields(nomination: NominationInput) -> list[Rejection]:
    """Name, kecamatan and desa must be filled: the decree lists workers by them."""
    required = (
        (nomination.full_name, ReasonCode.NAME_MISSING),
        (nomination.kecamatan, ReasonCode.KECAMATAN_MISSING),
        (nomination.desa, ReasonCode.DESA_MISSING),
    )
    return [reject(code) for value, code in required if not value.strip()]


def check_sex(sex: str) -> list[Rejection]:
    """The stated jenis kelamin must be L or P."""
    return [] if parse_sex(sex) is not None else [reject(ReasonCode.SEX_INVALID, sex=sex)]


def check_sector(sector: str) -> list[Rejection]:
    """The sector must be one the quota knows: sawit or non_sawit."""
    if sector.strip().lower() in SECTORS:
        return []
    return [reject(ReasonCode.SECTOR_INVALID, sector=sector)]


def check_regency(regency_code: str) -> list[Rejection]:
    """The nominating regency must be one of North Sumatra's (Kemendagri code)."""
    if region_by_code(regency_code) is not None:
        return []
    return [reject(ReasonCode.REGENCY_UNKNOWN, regency_code=regency_code)]


def check_period(period_start: date, period_end: date) -> list[Rejection]:
    """The programme period must not end before it starts (one-day periods are allowed)."""
    if period_end >= period_start:
        return []
    return [
        reject(
            ReasonCode.PERIOD_INVALID,
            period_start=tanggal(period_start),
            period_end=tanggal(period_end),
        )
    ]


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on ``day`` (someone born on 29 February ages on 1 March)."""
    had_birthday = (day.month, day.day) >= (birth_date.month, birth_date.day)
    return day.year - birth_date.year - (0 if had_birthday else 1)


def check_age(birth_date: date, policy: ValidationPolicy) -> list[Rejection]:
    """Age at coverage start must lie in [age_min, age_max], both inclusive."""
    age = age_on(birth_date, policy.coverage_start)
    details = {"age": str(age), "coverage_start": tanggal(policy.coverage_start)}
    if age < policy.age_min:
        return [reject(ReasonCode.AGE_BELOW_MIN, age_min=str(policy.age_min), **details)]
    if age > policy.age_max:
        return [reject(ReasonCode.AGE_ABOVE_MAX, age_max=str(policy.age_max), **details)]
    return []


def normalize_occupation(occupation: str) -> str:
    """Lower case, single spaces, no edges: "  Tukang   Becak " matches "tukang becak"."""
    return occupation_key(occupation)


def check_occupation(occupation: str, policy: ValidationPolicy) -> list[Rejection]:
    """The occupation must name a kind of work on the programme's list (synonyms and spellings
    officers use match: "PKL" is a "pedagang kaki lima", "supir" a "sopir")."""
    if same_work(occupation, policy.occupations):
        return []
    return [reject(ReasonCode.OCCUPATION_NOT_ALLOWED, occupation=occupation.strip())]


def check_poverty(p3ke_desil: int | None, in_dtks: bool, policy: ValidationPolicy) -> PovertyDecision:
    """The worker must be in P3KE at an allowed desil, or in DTKS where the programme lets DTKS
    (DTSEN) membership alone admit (``admit_dtks_only``; Sumut 2025 does not).

    P3KE is asked first because the provincial quota is drawn from its deciles; DTKS admits
    those P3KE misses or ranks higher. The officer's stated desil plays no part: only the
    extract is evidence.
    """
    if p3ke_desil is not None and p3ke_desil in policy.allowed_deciles:
        return PovertyDecision(PovertySource.P3KE, [])
    allowed = ", ".join(str(desil) for desil in sorted(policy.allowed_deciles))
    if in_dtks and policy.admit_dtks_only:
        return PovertyDecision(PovertySource.DTKS, [])
    if in_dtks:
        p3ke = f"desil {p3ke_desil}" if p3ke_desil is not None else "tidak terdaftar di P3KE"
        return PovertyDecision(
            None, [reject(ReasonCode.DTKS_NOT_ACCEPTED, allowed_deciles=allowed, p3ke=p3ke)]
        )
    if p3ke_desil is not None:
        rejection = reject(ReasonCode.DECILE_NOT_ALLOWED, desil=str(p3ke_desil), allowed_deciles=allowed)
        return PovertyDecision(None, [rejection])
    return PovertyDecision(None, [reject(ReasonCode.NOT_IN_P3KE_OR_DTKS)])


def check_bpjs_participation(active_bpjs_kpj: str | None) -> list[Rejection]:
    """A worker already actively insured at BPJS Ketenagakerjaan needs no premium assistance."""
    if active_bpjs_kpj is None:
        return []
    return [reject(ReasonCode.ALREADY_BPJS_PARTICIPANT, kpj=active_bpjs_kpj)]


def check_duplicates(
    period_start: date, period_end: date, existing: Sequence[ExistingNomination], nominating_regency_code: str
) -> list[Rejection]:
    """No two nominations of one NIK may overlap in time, whoever the funder: one pays.

    `existing` are the nominations that still keep the worker (domain/one_payer.py: not those
    rejected, withdrawn, declined, waitlisted elsewhere or released). Periods are inclusive at
    both ends. One rejection at most, naming the first overlapping nomination in the order given
    (callers pass oldest first) and its programme, code and name, so the officer knows who holds
    the worker — when it is the nominating regency's own. Another regency's nomination is named
    to nobody but itself: the rejection is withheld (same code, no programme, regency or funder),
    and the province admin finds it in the province-wide listing (docs/security.md).
    """
    overlapping = [
        other for other in existing if other.period_start <= period_end and period_start <= other.period_end
    ]
    if not overlapping:
        return []
    own = [other for other in overlapping if _same_regency(other.regency_code, nominating_regency_code)]
    if not own:
        return [withheld(reject(ReasonCode.DUPLICATE_NOMINATION, **_duplicate_details(overlapping[0], 0)))]
    return [reject(ReasonCode.DUPLICATE_NOMINATION, **_duplicate_details(own[0], len(overlapping)))]


def _same_regency(code: str, other: str) -> bool:
    region, other_region = region_by_code(code), region_by_code(other)
    if region is None or other_region is None:
        return code.strip() == other.strip()
    return region == other_region


def _duplicate_details(first: ExistingNomination, overlapping_count: int) -> dict[str, str]:
    return {
        "programme_code": first.programme_code,
        "programme_name": first.programme_name,
        "regency": _regency_name(first.regency_code),
        "funder": first.funder,
        "period_start": tanggal(first.period_start),
        "period_end": tanggal(first.period_end),
        "nomination_id": first.nomination_id,
        "regency_code": first.regency_code,
        "overlapping_count": str(overlapping_count),
    }


def find_duplicates_in_upload(rows: Iterable[tuple[int, str]]) -> dict[int, Rejection]:
    """Rows of one upload repeating an earlier row's NIK, by row number, as the file shows it.

    ``rows`` are (row number, NIK) pairs. The first occurrence stays valid; each repeat is
    rejected, naming that first row. Blank NIKs are left to the NIK rules.
    """
    first_row_of: dict[str, int] = {}
    repeats: dict[int, Rejection] = {}
    for row, raw_nik in rows:
        nik = normalize_nik(raw_nik)
        if not nik:
            continue
        if nik in first_row_of:
            repeats[row] = reject(ReasonCode.DUPLICATE_IN_UPLOAD, first_row=str(first_row_of[nik]))
        else:
            first_row_of[nik] = row
    return repeats


def validate_nomination(
    nomination: NominationInput, context: ValidationContext, policy: ValidationPolicy
) -> ValidationOutcome:
    """Run every rule on one nomination and return all rejections, in a fixed order.

    Order: filled fields, regency (known, in the programme's jurisdiction, its kecamatan and
    desa), NIK (structure, its kecamatan, then against stated data and regency), sex, sector,
    seat in the quota, period, occupation, age, poverty, BPJS, duplicates.

    Scope first (docs/security.md, "No oracles across regencies"): a NIK registered in another
    regency (its digits 1-4) is refused NIK_REGENCY_MISMATCH where the programme requires a match,
    and then no rule that consults what Lindung knows of the person (P3KE/DTKS, BPJS, earlier
    nominations) runs at all: the answer is the same whether Lindung knows them or not. Where the
    programme admits such a NIK (a mover, with a note), those rules run but their messages are
    withheld (code only, no desil, DTKS membership, KPJ, or other regency's nomination).

    The NIK's century is
    read relative to ``policy.coverage_start``, so a replay years later decides the same. When
    the NIK is not even 16 digits, the rules keyed on it (poverty, BPJS, duplicates) are skipped:
    their lookups found nothing for a malformed key, and saying so would only add noise.
    """
    rejections = check_required_fields(nomination) + check_regency(nomination.regency_code)
    rejections += check_jurisdiction(nomination.regency_code, policy)
    rejections += check_kecamatan(nomination.kecamatan, nomination.regency_code)
    desa_code, desa_rejections = find_village(nomination, policy)
    rejections += desa_rejections
    notes: list[Rejection] = []
    parsed_or_rejections = parse_nik(nomination.nik, reference_date=policy.coverage_start)
    parsed: ParsedNik | None = None
    if isinstance(parsed_or_rejections, ParsedNik):
        parsed = parsed_or_rejections
        rejections += check_nik_kecamatan(parsed)
        rejections += check_nik_against_stated(parsed, birth_date=nomination.birth_date, sex=nomination.sex)
        if policy.nik_regency_must_match:
            rejections += check_nik_regency(parsed, nomination.regency_code)
        else:
            notes += nik_regency_note(parsed.regency_code, nomination.regency_code)
    else:
        rejections += parsed_or_rejections
    elsewhere = nik_out_of_scope(nomination.nik, nomination.regency_code)
    refused_for_scope = elsewhere and policy.nik_regency_must_match
    if refused_for_scope and not any(r.code is ReasonCode.NIK_REGENCY_MISMATCH for r in rejections):
        # A NIK whose other parts are wrong is still placed by its region digits.
        rejections += [reject(ReasonCode.NIK_REGENCY_MISMATCH, **_issued_elsewhere_of(nomination))]
    rejections += check_sex(nomination.sex)
    rejections += check_sector(nomination.sector)
    if not any(r.code is ReasonCode.REGENCY_OUTSIDE_JURISDICTION for r in rejections):
        rejections += check_seat(nomination.regency_code, nomination.sector, policy)
    rejections += check_period(nomination.period_start, nomination.period_end)
    rejections += check_occupation(nomination.occupation, policy)
    rejections += check_age(nomination.birth_date, policy)

    poverty_source: PovertySource | None = None
    if not refused_for_scope and not any(r.code is ReasonCode.NIK_FORMAT for r in rejections):
        poverty = check_poverty(context.p3ke_desil, context.in_dtks, policy)
        poverty_source = poverty.source
        about_the_person = poverty.rejections + check_bpjs_participation(context.active_bpjs_kpj)
        rejections += [withheld(r) for r in about_the_person] if elsewhere else about_the_person
        rejections += check_duplicates(
            nomination.period_start,
            nomination.period_end,
            context.existing_nominations,
            nomination.regency_code,
        )
    return ValidationOutcome(tuple(rejections), poverty_source, parsed, tuple(notes), desa_code)


def _issued_elsewhere_of(nomination: NominationInput) -> dict[str, str]:
    digits = normalize_nik(nomination.nik)
    return issued_elsewhere(f"{digits[:2]}.{digits[2:4]}", nomination.regency_code) or {}


def _regency_name(regency_code: str) -> str:
    region = region_by_code(regency_code)
    # An old nomination may carry a code since retired; the code still tells the officer where.
    return region.official_name if region is not None else regency_code
