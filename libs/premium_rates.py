"""The premium of a pekerja rentan at BPJS Ketenagakerjaan (BPU), per worker per month, as the
Peraturan Pemerintah on JKK and JKM sets it for the lowest wage band: the one home of the
defaults every service and tool starts from (a programme may set its own, DOMAIN.md)."""

from __future__ import annotations

JKK_PER_MONTH = 10_000  # Jaminan Kecelakaan Kerja (work accident)
JKM_PER_MONTH = 6_800  # Jaminan Kematian (death)
PREMIUM_PER_MONTH = JKK_PER_MONTH + JKM_PER_MONTH  # Rp16.800
MONTHS_PER_YEAR = 12
