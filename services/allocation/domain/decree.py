"""Decree (SK Gubernur / SK Bupati / Perkada) fixing a programme's beneficiary list, and its revisions.

The kind of instrument is the programme's (`decree_kind` in its file): the governor's decree for
the province, the regent's or mayor's decree, or a regional head's regulation (Peraturan Kepala
Daerah, Perkada: Pakpak Bharat 2025). Every decree of a programme is of that kind.

The list hash lets anyone check a published list without Lindung. Canonical form, version 1:

- one line per entry: ``worker_id|regency|sector`` followed by a single ``\\n`` (LF), the last
  line included; regency is the Kemendagri code ("12.71"), sector is ``sawit`` or ``non_sawit``;
- lines sorted by worker_id in Unicode code-point order (the same as UTF-8 byte order);
- encoded in UTF-8, no BOM; the hash is the lowercase hex SHA-256 of those bytes.

Names and NIKs are left out: they are personal data (UU 27/2022), and a spelling correction in
an SK perubahan must not change which workers the list holds. An auditor holding the list as
``worker_id|regency|sector`` lines can recompute the hash with:

    LC_ALL=C sort -t'|' -k1,1 list.txt | sha256sum
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from libs import decree_list
from services.allocation.domain.programme import PROVINCE_CODE, DecreeKind
from services.allocation.domain.sector import Sector

DECREE_KIND_NAMES: dict[DecreeKind, str] = {
    DecreeKind.SK_GUBERNUR: "SK Gubernur",
    DecreeKind.SK_BUPATI: "SK Bupati/Wali Kota",
    DecreeKind.PERKADA: "Peraturan Kepala Daerah (Perkada)",
}
"""How officers name each kind of instrument."""


def decree_kind_of(recorded: str | None, jurisdiction: str) -> DecreeKind:
    """The programme's kind of decree: as its definition says, or, for a definition written
    before the programme file said (2026-12), the governor's for the province, else the regent's."""
    if recorded:
        return DecreeKind(recorded)
    return DecreeKind.SK_GUBERNUR if jurisdiction == PROVINCE_CODE else DecreeKind.SK_BUPATI


_FORBIDDEN = ("|", "\n", "\r")
_UNMASKED_NIK = re.compile(r"\d{16}")


@dataclass(frozen=True, slots=True)
class DecreeEntry:
    """One beneficiary on a decree. `nik_masked` must not be a full NIK."""

    worker_id: str
    nik_masked: str
    name: str
    regency: str
    sector: Sector

    def __post_init__(self) -> None:
        for label, value in (("worker_id", self.worker_id), ("regency", self.regency)):
            if not value or any(ch in value for ch in _FORBIDDEN):
                raise ValueError(f"{label} {value!r} is empty or holds '|' or a line break")
        if _UNMASKED_NIK.search(self.nik_masked):
            # Never the reason for a log line to carry personal data: refuse, and say nothing more.
            raise ValueError(f"entry {self.worker_id}: nik_masked holds an unmasked NIK")

    def canonical_line(self) -> str:
        """This entry's line in the hashed list: ``worker_id|regency|sector\\n``."""
        return decree_list.canonical_line(self.worker_id, self.regency, self.sector.value)


@dataclass(frozen=True, slots=True)
class DecreeDiff:
    """What an SK perubahan changes against the previous decree, each part sorted by worker id."""

    added: tuple[DecreeEntry, ...]
    removed: tuple[DecreeEntry, ...]
    changed: tuple[tuple[DecreeEntry, DecreeEntry], ...] = ()  # (before, after), same worker

    @property
    def is_empty(self) -> bool:
        """True when the revision changes nothing on the list."""
        return not (self.added or self.removed or self.changed)


@dataclass(frozen=True, slots=True)
class Decree:
    """A signed decree fixing a programme's beneficiaries; `version` 1 is the first SK, later
    versions are SK perubahan."""

    number: str  # e.g. "188.44/123/KPTS/2025"
    date: dt.date
    signer: str
    programme_code: str
    version: int
    entries: tuple[DecreeEntry, ...]

    def __post_init__(self) -> None:
        if not self.number.strip() or not self.signer.strip():
            raise ValueError("a decree needs a number and a signer")
        if self.version < 1:
            raise ValueError(f"decree version starts at 1, got {self.version}")
        ids = [entry.worker_id for entry in self.entries]
        if len(set(ids)) != len(ids):
            raise ValueError(f"decree {self.number} lists a worker twice")

    def canonical_list(self) -> bytes:
        """The list in its canonical form (see the module docstring), as hashed."""
        return decree_list.canonical_list((e.worker_id, e.regency, e.sector.value) for e in self.entries)

    def list_sha256(self) -> str:
        """Lowercase hex SHA-256 of the canonical list: independent of entry order."""
        return decree_list.list_sha256((e.worker_id, e.regency, e.sector.value) for e in self.entries)

    def diff(self, previous: Decree) -> DecreeDiff:
        """What this decree changes against `previous`, an earlier decree of the same programme.

        An entry is `changed` when the worker stays but any of its fields differ (regency, sector,
        name or masked NIK): a name correction appears in the SK perubahan, not in the hash.
        """
        if previous.programme_code != self.programme_code:
            raise ValueError(
                f"decree {self.number} is for {self.programme_code}, "
                f"{previous.number} for {previous.programme_code}"
            )
        if previous.version >= self.version:
            raise ValueError(f"decree version {self.version} does not follow version {previous.version}")
        before = {entry.worker_id: entry for entry in previous.entries}
        after = {entry.worker_id: entry for entry in self.entries}
        return DecreeDiff(
            added=tuple(after[w] for w in sorted(after.keys() - before.keys())),
            removed=tuple(before[w] for w in sorted(before.keys() - after.keys())),
            changed=tuple(
                (before[w], after[w]) for w in sorted(after.keys() & before.keys()) if before[w] != after[w]
            ),
        )
