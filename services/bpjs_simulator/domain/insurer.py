"""How the pretend BPJS decides: seeded, so every run of a test decides the same.

Every random choice is a draw from SHA-256 over (seed, a key naming the choice), never from a
global random generator: the same request gets the same decision, delay and duplicate in every
run, whatever the order in which requests arrive.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

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
    premium_jkk: int = 10_000
    premium_jkm: int = 6_800

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
        if self.late_delay_ms < 0 or self.premium_jkk < 0 or self.premium_jkm < 0:
            raise ValueError("late_delay_ms and premiums must not be negative")


@dataclass(frozen=True)
class Refusal:
    """BPJS's reason to refuse a request: a machine code, a message (Indonesian), and whether
    the same request may succeed later."""

    code: str
    message: str
    retryable: bool = False


def _draw(seed: int, key: str) -> int:
    """A deterministic number in [0, 1_000_000) for `key` under `seed`."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % PER_MILLION


def _happens(behaviour: InsurerBehaviour, rate_per_million: int, key: str) -> bool:
    return _draw(behaviour.seed, key) < rate_per_million


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def nik_not_found(nik: str, behaviour: InsurerBehaviour) -> bool:
    """True when the civil registry (Dukcapil) does not know this NIK, in this simulation."""
    return _happens(behaviour, behaviour.nik_not_found_per_million, nik)


def registration_refusal(
    nik: str, birth_date: date, coverage_start: date, behaviour: InsurerBehaviour, attempt: int = 1
) -> Refusal | None:
    """BPJS's reason to refuse a registration, or None to accept it.

    A transient refusal (Dukcapil unreachable) is drawn per attempt, so a re-sent request may
    pass; the other reasons depend on the person alone, so every attempt gets the same answer.
    """
    if _happens(behaviour, behaviour.transient_error_per_million, f"transient:{nik}:{attempt}"):
        return Refusal(
            "DUKCAPIL_UNAVAILABLE",
            "Layanan verifikasi data kependudukan (Dukcapil) sedang tidak dapat dihubungi; coba lagi.",
            retryable=True,
        )
    if nik_not_found(nik, behaviour):
        return Refusal("NIK_NOT_FOUND", "NIK tidak ditemukan di data kependudukan (Dukcapil).")
    age = age_on(birth_date, coverage_start)
    if not behaviour.age_min <= age <= behaviour.age_max:
        return Refusal(
            "AGE_OUT_OF_RANGE",
            f"Usia {age} tahun di luar batas kepesertaan BPU "
            f"({behaviour.age_min}-{behaviour.age_max} tahun).",
        )
    return None


def kpj_number(sequence: int) -> str:
    """An 11-digit KPJ with a BPJS-like prefix; unique because `sequence` is."""
    return f"KPJ{sequence + 26_000_000_000:011d}"


def payment_ref(sequence: int) -> str:
    """A BPJS receipt number for a premium payment; unique because `sequence` is."""
    return f"BPJS-PAY-{sequence:010d}"


@dataclass(frozen=True)
class Delivery:
    """One sending of an answer: after `delay_ms`; `copy` 2 is the simulator repeating itself;
    `late` answers are held `late_delay_ms` longer, so answers sent after them overtake them."""

    delay_ms: int
    copy: int
    late: bool


def deliveries(behaviour: InsurerBehaviour, key: str) -> list[Delivery]:
    """When the answer named `key` is sent: once, or twice when the simulator repeats itself."""

    def delay(part: str) -> int:
        span = behaviour.max_delay_ms - behaviour.min_delay_ms
        return behaviour.min_delay_ms + (_draw(behaviour.seed, f"delay:{part}:{key}") % (span + 1))

    late = _happens(behaviour, behaviour.late_per_million, f"late:{key}")
    first = delay("first") + (behaviour.late_delay_ms if late else 0)
    sent = [Delivery(first, 1, late)]
    if _happens(behaviour, behaviour.duplicate_per_million, f"duplicate:{key}"):
        sent.append(Delivery(first + delay("again"), 2, False))
    return sent


@dataclass(frozen=True)
class PaymentRequest:
    """What the simulator checks in a premium payment request."""

    kpjs: tuple[str, ...]
    participants: int
    jkk_per_participant: int
    jkm_per_participant: int
    jkk_total: int
    jkm_total: int
    total: int


def payment_refusal(
    request: PaymentRequest,
    unknown: set[str],
    already_paid: set[str],
    behaviour: InsurerBehaviour,
    transient_key: str,
) -> Refusal | None:
    """BPJS's reason to refuse a premium payment as a whole, or None to book it.

    `unknown`: listed KPJs that are not participants; `already_paid`: listed KPJs whose month
    another payment already paid. Amounts must be exactly participants × the premium."""
    if _happens(behaviour, behaviour.transient_error_per_million, f"transient-pay:{transient_key}"):
        return Refusal(
            "SERVICE_UNAVAILABLE",
            "Sistem pembayaran iuran BPJS sedang tidak tersedia; coba lagi.",
            retryable=True,
        )
    n = len(request.kpjs)
    expected = (
        n,
        behaviour.premium_jkk,
        behaviour.premium_jkm,
        n * behaviour.premium_jkk,
        n * behaviour.premium_jkm,
        n * (behaviour.premium_jkk + behaviour.premium_jkm),
    )
    stated = (
        request.participants,
        request.jkk_per_participant,
        request.jkm_per_participant,
        request.jkk_total,
        request.jkm_total,
        request.total,
    )
    if len(set(request.kpjs)) != n or stated != expected:
        return Refusal(
            "AMOUNT_MISMATCH",
            f"Jumlah iuran tidak sesuai: {n} peserta x Rp{behaviour.premium_jkk + behaviour.premium_jkm:,}"
            f" = Rp{expected[-1]:,}, diterima Rp{request.total:,}.".replace(",", "."),
        )
    if unknown:
        return Refusal("UNKNOWN_PARTICIPANT", f"{len(unknown)} KPJ tidak terdaftar sebagai peserta BPU.")
    if already_paid:
        return Refusal("ALREADY_PAID", f"Iuran bulan ini untuk {len(already_paid)} peserta sudah dibayar.")
    return None
