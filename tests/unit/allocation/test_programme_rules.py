"""Programme rules published with the programme, and the kind of decree that fixes its list."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from services.allocation.adapters.annex import Annex, AnnexLine
from services.allocation.adapters.annex_pdf import annex_pdf
from services.allocation.application.programmes import ProgrammeFacts, programme_defined
from services.allocation.domain.decree import decree_kind_of
from services.allocation.domain.programme import DecreeKind, Funder
from tests.unit.allocation.factories import programme

PAKPAK = {
    "code": "PAKPAK-BHARAT-2025",
    "funder": "DBH_SAWIT",
    "jurisdiction": "12.15",
    "decree_kind": "PERKADA",
    "quotas": [{"regency": "12.15", "sector": "sawit", "seats": 890}],
}


def test_programme_defined_carries_the_rules_of_the_file() -> None:
    event = programme_defined(
        programme(admit_dtks_only=False, nik_regency_must_match=True, village_cap=100, **PAKPAK)
    )

    assert (event.admit_dtks_only, event.nik_regency_must_match, event.village_cap) == (False, True, 100)
    assert event.decree_kind == "PERKADA"
    defaults = programme_defined(programme())
    assert (defaults.admit_dtks_only, defaults.nik_regency_must_match, defaults.village_cap) == (
        True,
        False,
        None,
    )
    assert defaults.decree_kind == "SK_GUBERNUR"


@pytest.mark.parametrize(
    ("recorded", "jurisdiction", "kind"),
    [
        ("PERKADA", "12.15", DecreeKind.PERKADA),
        ("SK_BUPATI", "12.17", DecreeKind.SK_BUPATI),
        (None, "12", DecreeKind.SK_GUBERNUR),  # a definition from before the file said
        (None, "12.17", DecreeKind.SK_BUPATI),
    ],
)
def test_the_kind_of_decree_is_the_programmes(
    recorded: str | None, jurisdiction: str, kind: DecreeKind
) -> None:
    assert decree_kind_of(recorded, jurisdiction) is kind
    facts = ProgrammeFacts(
        "P", "P", 2025, Funder.DBH_SAWIT, jurisdiction, date(2025, 1, 1), date(2025, 12, 31),
        16_800, 12, True, recorded,
    )  # fmt: skip
    assert facts.decree_kind is kind


def test_the_annex_of_a_perkada_is_attached_to_a_regulation() -> None:
    annex = Annex(
        programme_code="PAKPAK-BHARAT-2025",
        programme_name="Pekerja sawit Pakpak Bharat",
        jurisdiction="12.15",
        decree_number="12 TAHUN 2025",
        decree_date=date(2025, 3, 3),
        signer="Bupati Pakpak Bharat",
        version=1,
        supersedes=None,
        list_sha256="0" * 64,
        premium_per_month=16_800,
        months=12,
        budget_cap=890 * 201_600,
        lines=[AnnexLine("w1", "12.15", "sawit", "Ani Berutu", "1215**********01")],
        kind=DecreeKind.PERKADA,
    )
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(annex_pdf(annex))).pages)

    assert annex.instrument == "PERATURAN"
    assert "LAMPIRAN PERATURAN BUPATI PAKPAK BHARAT" in text
    assert replace(annex, kind=DecreeKind.SK_BUPATI).instrument == "KEPUTUSAN"
