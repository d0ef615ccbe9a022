"""The read side's pure parts: query rows shaped into the summary's tables, the scope of a
summary, and the maps' answers (application/views/)."""

from __future__ import annotations

from types import SimpleNamespace as Row

from libs.regions import all_regions
from libs.regions.places import kecamatan_of_regency
from services.dashboard.adapters.geo_data import load_atlas
from services.dashboard.application.views import maps
from services.dashboard.application.views.scope import region_sort_key, scope_json
from services.dashboard.application.views.tables import (
    billed_vs_paid,
    by_regency_money,
    claims_by_month,
    ranked,
    regency_rows,
)
from services.dashboard.domain.figures import Counters


def test_claims_by_month_fill_both_programmes_and_add_up_to_the_totals() -> None:
    rows = [
        Row(month="2025-04", claim_type="JKK", claims=2, amount=3_000_000, flagged=1),
        Row(month="2025-03", claim_type="JKM", claims=1, amount=42_000_000, flagged=0),
        Row(month="2025-04", claim_type="JKM", claims=1, amount=None, flagged=0),
    ]
    answer = claims_by_month(rows)
    assert [m["month"] for m in answer["by_month"]] == ["2025-03", "2025-04"]
    assert answer["by_month"][0]["label"] == "Mar 2025"
    assert answer["by_month"][0]["JKK"] == {"claims": 0, "amount": 0, "flagged": 0}
    assert answer["totals"] == {
        "JKK": {"claims": 2, "amount": 3_000_000, "flagged": 1},
        "JKM": {"claims": 2, "amount": 42_000_000, "flagged": 0},
    }


def test_money_per_regency_skips_claims_of_no_regency() -> None:
    premiums = [
        Row(regency_code="12.17", month="2025-03", workers=2, total=33_600),
        Row(regency_code="12.71", month="2025-03", workers=1, total=16_800),
        Row(regency_code="12.17", month="2025-04", workers=2, total=33_600),
    ]
    claims = [
        Row(regency_code="12.17", claims=1, amount=500, flagged=1),
        Row(regency_code=None, claims=4, amount=900, flagged=0),
    ]
    paid, claimed, months = by_regency_money(premiums, claims)
    assert paid == {"12.17": 67_200, "12.71": 16_800}
    assert claimed == {"12.17": {"claims": 1, "amount": 500, "flagged": 1}}
    assert months == [
        {"month": "2025-03", "label": "Mar 2025", "workers": 3, "total": 50_400},
        {"month": "2025-04", "label": "Apr 2025", "workers": 2, "total": 33_600},
    ]


def test_billed_against_paid_puts_an_unnamed_funder_under_the_programmes() -> None:
    bills = [Row(month="2025-03", funder="APBD_PROVINSI", workers=3, total=50_400)]
    paid = [Row(month="2025-03", funder="", workers=2, total=33_600)]
    [line] = billed_vs_paid(bills, paid, "APBD_PROVINSI")
    assert line["funder_label"] == "APBD Provinsi" and line["label"] == "Mar 2025"
    assert (line["billed"], line["paid"], line["unpaid"]) == (50_400, 33_600, 16_800)
    assert (line["billed_workers"], line["paid_workers"]) == (3, 2)


def test_reasons_rank_most_first_and_keep_unknown_codes() -> None:
    answer = ranked({"B": 2, "A": 2, "NEW_CODE": 5}, {"A": "Alasan A"})
    assert [(r["code"], r["label"], r["count"]) for r in answer] == [
        ("NEW_CODE", "NEW_CODE", 5),
        ("A", "Alasan A", 2),
        ("B", "B", 2),
    ]


def test_regency_rows_list_every_regency_province_wide_and_one_for_a_regency() -> None:
    held = Counters()
    held.assigned, held.seats = 2, 3
    cells = {("12.17", "non_sawit"): held}
    every = regency_rows(cells, 201_600, {"12.17": 33_600}, {}, None)
    assert [r["code"] for r in every] == sorted(
        (r.kemendagri_code for r in all_regions()), key=region_sort_key
    )
    [samosir] = regency_rows(cells, 201_600, {"12.17": 33_600}, {}, "12.17")
    assert samosir["name"] == "Kabupaten Samosir"
    assert (samosir["committed"], samosir["paid"], samosir["claims"]) == (403_200, 33_600, 0)
    unknown = regency_rows({("12.99", "sawit"): Counters()}, 1, {}, {}, None)
    assert unknown[-1]["code"] == "12.99"  # an unknown code is shown, last


def test_a_regency_programme_covers_its_own_regency() -> None:
    regency = Row(jurisdiction="12.17", village_cap=None)
    assert scope_json(regency, None)["regency"] == "12.17"
    assert scope_json(regency, None)["whole_programme"] is True
    province = Row(jurisdiction="12", village_cap=5)
    assert scope_json(province, None)["name"] == "Provinsi Sumatera Utara"
    slice_ = scope_json(province, "12.17")
    assert (slice_["kind"], slice_["whole_programme"], slice_["per_village_cap"]) == ("province", False, 5)


def test_the_kecamatan_map_carries_each_kecamatans_desa_and_none_for_an_unknown_regency() -> None:
    atlas = load_atlas()
    assert len(maps.regency_map(atlas)["areas"]) == 33
    drawn = maps.kecamatan_map(atlas, "12.17")
    assert drawn is not None
    assert set(drawn["villages"]) == {k.code for k in kecamatan_of_regency("12.17")}
    assert maps.kecamatan_map(atlas, "12.99") is None
