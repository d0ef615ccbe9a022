"""How the pretend BPJS books premium payments and stops a programme's payments (deregistration).

A payment request is booked as a whole or refused as a whole: every KPJ listed must be a
participant the paying programme still pays for, whose month nobody paid yet, and the amounts
must be exactly participants x the premium. A deregistration ends what one programme pays for
one KPJ after the last covered day it names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from libs.wording import rupiah
from services.bpjs_simulator.domain.insurer import InsurerBehaviour, Refusal, happens


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


def payment_ref(sequence: int) -> str:
    """A BPJS receipt number for a premium payment; unique because `sequence` is."""
    return f"BPJS-PAY-{sequence:010d}"


def payment_stopped(ended_on: Iterable[date | None], month: str) -> bool:
    """Whether a programme has stopped paying for a participant before `month` (YYYY-MM): every
    registration of theirs it paid under was ended by a deregistration before the month began.
    `ended_on` lists those registrations' last covered days (None: not deregistered)."""
    ends = list(ended_on)
    first_day = date.fromisoformat(f"{month}-01")
    return bool(ends) and all(end is not None and end < first_day for end in ends)


def payment_refusal(
    request: PaymentRequest,
    unknown: set[str],
    already_paid: set[str],
    behaviour: InsurerBehaviour,
    transient_key: str,
    not_active: set[str] | frozenset[str] = frozenset(),
) -> Refusal | None:
    """BPJS's reason to refuse a premium payment as a whole, or None to book it.

    `unknown`: listed KPJs that are not participants; `not_active`: listed KPJs the paying
    programme deregistered before the month; `already_paid`: listed KPJs whose month another
    payment already paid. Amounts must be exactly participants × the premium."""
    if happens(behaviour, behaviour.transient_error_per_million, f"transient-pay:{transient_key}"):
        return Refusal(
            "SERVICE_UNAVAILABLE",
            "Sistem pembayaran iuran BPJS sedang tidak tersedia; coba lagi.",
            retryable=True,
        )
    n = len(request.kpjs)
    premium = behaviour.premium_jkk + behaviour.premium_jkm
    expected = (
        n,
        behaviour.premium_jkk,
        behaviour.premium_jkm,
        n * behaviour.premium_jkk,
        n * behaviour.premium_jkm,
        n * premium,
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
        # The sentence's own comma was always written as a dot too: kept, answers stay the same.
        return Refusal(
            "AMOUNT_MISMATCH",
            f"Jumlah iuran tidak sesuai: {n} peserta x {rupiah(premium)} = {rupiah(n * premium)}. "
            f"diterima {rupiah(request.total)}.",
        )
    if unknown:
        return Refusal("UNKNOWN_PARTICIPANT", f"{len(unknown)} KPJ tidak terdaftar sebagai peserta BPU.")
    if not_active:
        return Refusal(
            "NOT_ACTIVE",
            f"{len(not_active)} peserta sudah dihentikan pembayarannya oleh program ini sebelum bulan "
            "tersebut; iuran tidak diterima.",
        )
    if already_paid:
        return Refusal("ALREADY_PAID", f"Iuran bulan ini untuk {len(already_paid)} peserta sudah dibayar.")
    return None


def deregistration_refusal(stopped: bool, kpj: str, programme_code: str, known: bool) -> Refusal | None:
    """BPJS's reason to refuse a deregistration, or None when it `stopped` the programme's
    payments for the KPJ (`known`: BPJS issued the KPJ to someone)."""
    if stopped:
        return None
    message = (
        f"KPJ {kpj} tidak dibayar oleh program {programme_code}; tidak ada pembayaran yang dapat dihentikan."
        if known
        else f"KPJ {kpj} tidak terdaftar di BPJS Ketenagakerjaan."
    )
    return Refusal("UNKNOWN_PARTICIPANT", message)
