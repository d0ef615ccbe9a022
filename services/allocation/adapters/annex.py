"""The annex (lampiran) of a decree: the list per regency and sector, masked NIKs, totals and budget.

Two renderings of the same `Annex`: CSV here, for systems and spreadsheets (worker rows carry the
worker id and sector code, so the decree's list hash can be recomputed from them, see
domain/decree.py), and a printable PDF for the signed decree (annex_pdf.py). Names and masked NIKs
only: never a full NIK.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from libs.regions import PROVINCE_CODE, region_by_code
from libs.spreadsheet import SafeWriter
from services.allocation.domain.programme import DecreeKind

RELEASE_REASONS = {
    "withdrawn": "usulan ditarik",
    "died": "meninggal dunia",
    "enrollment_failed": "gagal didaftarkan di BPJS Ketenagakerjaan",
    "held_by_other_programme": "dibiayai program lain",
    "membership_ended": "kepesertaan BPJS Ketenagakerjaan berakhir",
}


@dataclass(frozen=True)
class AnnexLine:
    """One worker on the list (or taken off it, for an SK perubahan)."""

    worker_id: str
    regency_code: str
    sector: str
    full_name: str
    nik_masked: str
    release_reason: str | None = None

    @property
    def regency_name(self) -> str:
        return regency_name(self.regency_code)


@dataclass(frozen=True)
class Annex:
    """Everything the annex prints, as recorded in the read models for one decree."""

    programme_code: str
    programme_name: str
    jurisdiction: str
    decree_number: str
    decree_date: dt.date
    signer: str
    version: int
    supersedes: str | None
    list_sha256: str
    premium_per_month: int
    months: int
    budget_cap: int
    lines: Sequence[AnnexLine]
    added: frozenset[str] = field(default_factory=frozenset)
    removed: Sequence[AnnexLine] = ()
    kind: DecreeKind = DecreeKind.SK_GUBERNUR

    @property
    def cost_per_worker(self) -> int:
        return self.premium_per_month * self.months

    @property
    def worker_count(self) -> int:
        return len(self.lines)

    @property
    def total_cost(self) -> int:
        return self.worker_count * self.cost_per_worker

    @property
    def budget_left(self) -> int:
        return self.budget_cap - self.total_cost

    def cells(self) -> Iterator[tuple[str, str, list[AnnexLine]]]:
        """(regency, sector, lines) in Kemendagri then sector order."""
        ordered = sorted(self.lines, key=lambda x: (x.regency_code, x.sector, x.full_name, x.worker_id))
        for (regency, sector), group in groupby(ordered, key=lambda x: (x.regency_code, x.sector)):
            yield regency, sector, list(group)

    def regency_totals(self) -> list[tuple[str, int]]:
        counts: dict[str, int] = {}
        for line in self.lines:
            counts[line.regency_code] = counts.get(line.regency_code, 0) + 1
        return sorted(counts.items())

    @property
    def instrument(self) -> str:
        """What the annex is attached to: a decree (KEPUTUSAN), or a regulation (PERATURAN) for a
        Perkada."""
        return "PERATURAN" if self.kind is DecreeKind.PERKADA else "KEPUTUSAN"

    @property
    def authority(self) -> str:
        """Who signs: the governor for the province, else the regent / mayor."""
        if self.jurisdiction == PROVINCE_CODE:
            return "GUBERNUR SUMATERA UTARA"
        region = region_by_code(self.jurisdiction)
        if region is None:
            return "BUPATI"
        title = "WALI KOTA" if region.kind == "kota" else "BUPATI"
        return f"{title} {region.name.upper()}"


def regency_name(code: str) -> str:
    region = region_by_code(code)
    return region.official_name if region else code


# --- CSV ---------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "baris",
    "no",
    "kode_kab_kota",
    "kab_kota",
    "sektor",
    "nama",
    "nik",
    "worker_id",
    "jumlah_pekerja",
    "biaya_rp",
)


def annex_csv(annex: Annex) -> str:
    """The annex as CSV: `pekerja` rows, then subtotals per cell and regency, totals and budget.

    Filter `baris == pekerja` for the list itself; `worker_id|kode_kab_kota|sektor` of those rows,
    sorted, is the canonical list whose SHA-256 the decree carries.
    """
    out = io.StringIO()
    # Names and desa are what officers typed: neutralised where they start like a formula.
    writer = SafeWriter(csv.writer(out, lineterminator="\n"))
    writer.writerow(CSV_COLUMNS)
    cost = annex.cost_per_worker
    n = 0
    per_regency: dict[str, int] = {}
    for regency, sector, lines in annex.cells():
        for line in lines:
            n += 1
            writer.writerow(
                (
                    "pekerja",
                    n,
                    regency,
                    line.regency_name,
                    sector,
                    line.full_name,
                    line.nik_masked,
                    line.worker_id,
                    "",
                    "",
                )
            )
        writer.writerow(
            (
                "jumlah_sektor",
                "",
                regency,
                regency_name(regency),
                sector,
                "",
                "",
                "",
                len(lines),
                len(lines) * cost,
            )
        )
        per_regency[regency] = per_regency.get(regency, 0) + len(lines)
    for regency, count in sorted(per_regency.items()):
        writer.writerow(
            ("jumlah_kab_kota", "", regency, regency_name(regency), "", "", "", "", count, count * cost)
        )
    writer.writerow(("jumlah", "", "", "", "", "", "", "", annex.worker_count, annex.total_cost))
    writer.writerow(("pagu", "", "", "", "", "", "", "", "", annex.budget_cap))
    writer.writerow(("sisa_pagu", "", "", "", "", "", "", "", "", annex.budget_left))
    return out.getvalue()
