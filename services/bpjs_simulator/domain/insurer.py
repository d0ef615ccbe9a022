"""How the pretend BPJS decides: seeded, so every run of a test decides the same.

Every random choice is a draw from SHA-256 over (seed, a key naming the choice), never from a
global random generator: the same request gets the same decision, delay and duplicate in every
run, whatever the order in which requests arrive.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from libs.months import month_of
from libs.premium_rates import JKK_PER_MONTH, JKM_PER_MONTH

PER_MILLION = 1_000_000


@dataclass(frozen=True)
class InsurerBehaviour:
    """Configurable behaviour of the simulator (rates are per million to stay in integers)."""

    seed: int
    nik_not_found_per_million: int
    age_min: int
    age_max: int
    transient_error_per_million: int = 0
    min_delay_ms: int = 0
    max_delay_ms: int = 0
    duplicate_per_million: int = 0
    late_per_million: int = 0
    late_delay_ms: int = 0
    premium_jkk: int = JKK_PER_MONTH
    premium_jkm: int = JKM_PER_MONTH
    # BPU: arrears of up to this many months restore protection; one more unpaid month ends the
    # membership (a new registration is then needed, and another payer may take the KPJ over).
    arrears_months: int = 3

    def __post_init__(self) -> None:
        rates = (
            self.nik_not_found_per_million,
            self.transient_error_per_million,
            self.duplicate_per_million,
            self.late_per_million,
        )
        if any(not 0 <= r <= PER_MILLION for r in rates):
            raise ValueError("rates are per million: 0..1,000,000")
        if not 0 <= self.min_delay_ms <= self.max_delay_ms:
            raise ValueError("need 0 <= min_delay_ms <= max_delay_ms")
        if min(self.late_delay_ms, self.premium_jkk, self.premium_jkm, self.arrears_months) < 0:
            raise ValueError("late_delay_ms, premiums and arrears_months must not be negative")


@dataclass(frozen=True)
class Refusal:
    """BPJS's reason to refuse a request: a machine code, a message (Indonesian), and whether
    the same request may succeed later."""

    code: str
    message: str
    retryable: bool = False


def draw(seed: int, key: str) -> int:
    """A deterministic number in [0, 1_000_000) for `key` under `seed`."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % PER_MILLION


def happens(behaviour: InsurerBehaviour, rate_per_million: int, key: str) -> bool:
    """Whether the event drawn for `key` happens at `rate_per_million`."""
    return draw(behaviour.seed, key) < rate_per_million


def age_on(birth: date, day: date) -> int:
    """Age in whole years on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def nik_not_found(nik: str, behaviour: InsurerBehaviour) -> bool:
    """True when the civil registry (Dukcapil) does not know this NIK, in this simulation."""
    return happens(behaviour, behaviour.nik_not_found_per_million, nik)


def registration_refusal(
    nik: str,
    birth_date: date,
    coverage_start: date,
    behaviour: InsurerBehaviour,
    attempt: int = 1,
    known: bool = False,
) -> Refusal | None:
    """BPJS's reason to refuse a registration, or None to accept it.

    A transient refusal (Dukcapil unreachable) is drawn per attempt, so a re-sent request may
    pass; the other reasons depend on the person alone, so every attempt gets the same answer.
    A person BPJS already `known`s (holds a KPJ for) passed Dukcapil when first registered.
    """
    if happens(behaviour, behaviour.transient_error_per_million, f"transient:{nik}:{attempt}"):
        return Refusal(
            "DUKCAPIL_UNAVAILABLE",
            "Layanan verifikasi data kependudukan (Dukcapil) sedang tidak dapat dihubungi; coba lagi.",
            retryable=True,
        )
    if not known and nik_not_found(nik, behaviour):
        return Refusal("NIK_NOT_FOUND", "NIK tidak ditemukan di data kependudukan (Dukcapil).")
    age = age_on(birth_date, coverage_start)
    if not behaviour.age_min <= age <= behaviour.age_max:
        return Refusal(
            "AGE_OUT_OF_RANGE",
            f"Usia {age} tahun di luar batas kepesertaan BPU "
            f"({behaviour.age_min}-{behaviour.age_max} tahun).",
        )
    return None


# --- continuing participants: one KPJ per person, one payer at a time ---------------------------


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Payer:
    """A programme paying a participant's premiums for a period (one accepted registration).

    `first_day`: when its membership began (the later of coverage start and the day BPJS
    registered it); `ended_on`: the last covered day a deregistration named (None: none came)."""

    programme_code: str
    first_day: date
    coverage_end: date
    ended_on: date | None = None
    paid_months: frozenset[str] = frozenset()


def membership_end(payer: Payer, today: date, arrears_months: int) -> date | None:
    """The last day protected before the membership under `payer` ended, or None if it has not.

    Premiums are paid in advance: a month falls due when it begins, and a month not begun yet is
    not a lapse. Up to `arrears_months` consecutive months due and unpaid may still be paid in
    arrears; one more ends the membership, protection having stopped the day before the first
    of them (the same count as enrollment's, so both sides see the membership end together)."""
    last = min(payer.coverage_end, today)
    unpaid_run: list[str] = []
    day = date(payer.first_day.year, payer.first_day.month, 1)
    while day <= last:  # months begun, within the period
        month = month_of(day)
        if month in payer.paid_months:
            unpaid_run = []
        else:
            unpaid_run.append(month)
            if len(unpaid_run) > arrears_months:
                first_unpaid = date.fromisoformat(f"{unpaid_run[0]}-01")
                return first_unpaid - timedelta(days=1)
        day = _first_of_next_month(day)
    return None


def last_paying_day(payer: Payer, today: date, arrears_months: int) -> date:
    """The last day `payer` pays for: its period's end, unless a deregistration or the end of
    the membership came first."""
    ends = [payer.coverage_end, payer.ended_on, membership_end(payer, today, arrears_months)]
    return min(d for d in ends if d is not None)


def active_payer(
    payers: Iterable[Payer], start: date, end: date, today: date, arrears_months: int
) -> tuple[Payer, date] | None:
    """A payer still paying for some day of [start, end] (and the last day it pays), or None:
    BPJS takes one payer at a time for a person."""
    for payer in payers:
        until = last_paying_day(payer, today, arrears_months)
        if payer.first_day <= until and payer.first_day <= end and start <= until:
            return payer, until
    return None


def kpj_refusal(nik_kpj: str | None, stated_kpj: str | None, stated_kpj_known: bool) -> Refusal | None:
    """BPJS's reason to refuse the KPJ a registration says the person already holds.

    `nik_kpj`: the KPJ BPJS holds for the request's NIK (None: a person it does not know);
    `stated_kpj_known`: whether BPJS issued the stated KPJ (to anyone)."""
    if stated_kpj is None or stated_kpj == nik_kpj:
        return None
    if nik_kpj is not None:
        return Refusal(
            "KPJ_MISMATCH",
            f"KPJ {stated_kpj} bukan milik peserta ini: NIK tersebut terdaftar dengan KPJ lain.",
        )
    if stated_kpj_known:
        return Refusal("KPJ_MISMATCH", f"KPJ {stated_kpj} terdaftar atas NIK lain.")
    return Refusal("KPJ_UNKNOWN", f"KPJ {stated_kpj} tidak terdaftar di BPJS Ketenagakerjaan.")


def payer_refusal(
    payers: Iterable[Payer], start: date, end: date, today: date, arrears_months: int
) -> Refusal | None:
    """ALREADY_REGISTERED while another programme still pays for the person over part of the
    period asked (two payers for the same months); None when every earlier payer's period ended,
    was ended by a deregistration, or lapsed into the end of the membership."""
    found = active_payer(payers, start, end, today, arrears_months)
    if found is None:
        return None
    payer, until = found
    return Refusal(
        "ALREADY_REGISTERED",
        f"Peserta masih aktif dibayar program {payer.programme_code} sampai "
        f"{until.isoformat()}; iuran tidak dapat dibayar dua program untuk bulan yang sama.",
    )


@dataclass(frozen=True)
class Continuation:
    """A registration accepted for a person BPJS already knows: same KPJ, a new payer."""

    kpj: str


def decide_registration(
    *,
    nik: str,
    birth_date: date,
    coverage_start: date,
    coverage_end: date,
    stated_kpj: str | None,
    nik_kpj: str | None,
    stated_kpj_known: bool,
    payers: Iterable[Payer],
    today: date,
    behaviour: InsurerBehaviour,
    attempt: int = 1,
) -> Refusal | Continuation | None:
    """A registration's fate: refused; continued under the KPJ BPJS holds for the NIK (a
    continuing participant, a new payer); or None: register a new participant (a new KPJ)."""
    refusal = registration_refusal(
        nik, birth_date, coverage_start, behaviour, attempt=attempt, known=nik_kpj is not None
    )
    if refusal is not None and refusal.retryable:
        return refusal
    refusal = kpj_refusal(nik_kpj, stated_kpj, stated_kpj_known) or refusal
    if refusal is not None:
        return refusal
    if nik_kpj is None:
        return None
    refusal = payer_refusal(payers, coverage_start, coverage_end, today, behaviour.arrears_months)
    return refusal or Continuation(nik_kpj)


def kpj_number(sequence: int) -> str:
    """An 11-digit KPJ with a BPJS-like prefix; unique because `sequence` is."""
    return f"KPJ{sequence + 26_000_000_000:011d}"
