"""Closed by default: what a service lacks to run outside development mode.

A service that would run open (no API keys: every caller is a province admin; the public default
pepper: every worker id reverses to a NIK; no session secret; no event keys: anyone may write as
anyone) refuses to start unless LINDUNG_DEV_MODE=true says this is a developer's machine, the
embedded demo (`lindung up`) or a test. In development mode it starts and says, once, what is open.

`refusals` is pure: the settings in, the reasons out (docs/security.md, "Production checklist").
"""

from __future__ import annotations

from dataclasses import dataclass

from libs.auth.keys import KeyConfigError, KeyRing
from libs.settings import Settings

# The public value in libs/settings.py: with it anyone can compute HMAC(pepper, NIK) for every NIK
# of a regency and match worker ids back to people.
DEFAULT_NIK_PEPPER = str(Settings.model_fields["nik_pepper"].default)
# HMAC-SHA256 keys shorter than the hash add brute-force room; 32 bytes is what
# `openssl rand -hex 32` (64 characters) comfortably exceeds.
MIN_SECRET_BYTES = 32
# Services that log people in with a cookie (signed with LINDUNG_SESSION_SECRET).
COOKIE_SERVICES = frozenset({"dashboard"})


@dataclass(frozen=True)
class Refusal:
    """One reason a service may not run in production: what is wrong, and the setting to set."""

    setting: str
    reason: str

    def __str__(self) -> str:
        return f"{self.reason} Setel {self.setting}."


def refusals(settings: Settings, service: str) -> list[Refusal]:
    """Why `service` may not start outside development mode with `settings` (empty: it may)."""
    found: list[Refusal] = []
    try:
        keyless = KeyRing.from_json(settings.api_keys).open
    except KeyConfigError:
        # The key ring's own start-up check names the mistake; here only that keys are missing.
        keyless = False
    if keyless:
        found.append(
            Refusal(
                "LINDUNG_API_KEYS",
                "Tidak ada kunci API: setiap pemanggil akan dianggap admin provinsi.",
            )
        )
    pepper = settings.nik_pepper
    if pepper == DEFAULT_NIK_PEPPER:
        found.append(
            Refusal(
                "LINDUNG_NIK_PEPPER",
                "Pepper NIK masih nilai bawaan yang diketahui umum: setiap worker id dapat "
                "dikembalikan menjadi NIK.",
            )
        )
    elif len(pepper.encode()) < MIN_SECRET_BYTES:
        found.append(
            Refusal(
                "LINDUNG_NIK_PEPPER",
                f"Pepper NIK lebih pendek dari {MIN_SECRET_BYTES} byte: terlalu mudah ditebak.",
            )
        )
    if service in COOKIE_SERVICES:
        secret = settings.session_secret or ""
        if not secret:
            found.append(
                Refusal(
                    "LINDUNG_SESSION_SECRET",
                    "Rahasia sesi tidak disetel: sesi login berakhir setiap kali layanan dimulai ulang "
                    "dan tiap replika menolak sesi replika lain.",
                )
            )
        elif len(secret.encode()) < MIN_SECRET_BYTES:
            found.append(
                Refusal(
                    "LINDUNG_SESSION_SECRET",
                    f"Rahasia sesi lebih pendek dari {MIN_SECRET_BYTES} byte: terlalu mudah ditebak.",
                )
            )
    if not settings.event_keyring_file:
        found.append(
            Refusal(
                "LINDUNG_EVENT_KEYRING_FILE",
                "Tidak ada keyring peristiwa: tanda tangan peristiwa yang masuk tidak diperiksa, "
                "siapa pun dapat menulis atas nama layanan lain.",
            )
        )
    if not settings.event_signing_key_file or not settings.event_signing_key_id:
        found.append(
            Refusal(
                "LINDUNG_EVENT_SIGNING_KEY_FILE dan LINDUNG_EVENT_SIGNING_KEY_ID",
                "Tidak ada kunci penanda tangan peristiwa: peristiwa yang dikirim layanan ini "
                "akan ditolak penerimanya.",
            )
        )
    if settings.privacy_master_key is None:
        found.append(
            Refusal(
                "LINDUNG_PRIVACY_MASTER_KEY",
                "Tidak ada kunci induk privasi: data pribadi akan disimpan tanpa enkripsi per orang "
                "dan tidak dapat dihapus (dilupakan) atas permintaan.",
            )
        )
    return found


def refusal_message(service: str, found: list[Refusal]) -> str:
    """The multi-line message a service prints when it refuses to start."""
    lines = [
        f"Layanan {service} tidak dijalankan: konfigurasi produksi belum lengkap "
        "(LINDUNG_DEV_MODE tidak aktif).",
        *(f"  - {r}" for r in found),
        "Hanya untuk pengembangan di mesin sendiri: LINDUNG_DEV_MODE=true. "
        'Lihat docs/security.md, "Production checklist".',
    ]
    return "\n".join(lines)


def open_warning(service: str, found: list[Refusal]) -> str:
    """The one warning a service logs when it starts in development mode with something open."""
    settings = ", ".join(r.setting for r in found)
    return (
        f"DEVELOPMENT MODE (LINDUNG_DEV_MODE=true): {service} runs open; in production it would "
        f"refuse to start without: {settings}"
    )


class ProductionRefused(RuntimeError):
    """A service was asked to start outside development mode without what production needs."""

    def __init__(self, service: str, found: list[Refusal]) -> None:
        self.service, self.found = service, found
        super().__init__(refusal_message(service, found))


def check_start(settings: Settings, service: str) -> list[Refusal]:
    """What is open for `service`; raises ProductionRefused when that is anything outside dev mode."""
    found = refusals(settings, service)
    if found and not settings.dev_mode:
        raise ProductionRefused(service, found)
    return found
