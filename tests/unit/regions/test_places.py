"""The kecamatan and desa/kelurahan tables, and lenient matching of hand-written names."""

import re

import pytest

from libs.regions import (
    all_desa,
    all_kecamatan,
    all_regions,
    desa_of_kecamatan,
    desa_of_regency,
    find_desa,
    find_kecamatan,
    kecamatan_by_code,
    kecamatan_of_regency,
    place_key,
)


def test_the_tables_hold_every_kecamatan_and_village_of_north_sumatra() -> None:
    desa = all_desa()
    assert len(all_kecamatan()) == 455
    assert len(desa) == 6_110
    assert sum(d.kind == "desa" for d in desa) == 5_417
    assert sum(d.kind == "kelurahan" for d in desa) == 693


def test_codes_nest_in_their_regency_and_kecamatan() -> None:
    regencies = {r.kemendagri_code for r in all_regions()}
    kecamatan = {k.code for k in all_kecamatan()}
    assert all(re.fullmatch(r"12\.\d\d\.\d\d", k.code) and k.code[:5] in regencies for k in all_kecamatan())
    assert all(
        d.kecamatan_code in kecamatan and d.code.startswith(d.kecamatan_code + ".") for d in all_desa()
    )
    assert {k.regency_code for k in all_kecamatan()} == regencies


def test_labuhanbatu_has_98_villages_and_samosir_9_kecamatan() -> None:
    assert len(desa_of_regency("12.10")) == 98
    assert [k.name for k in kecamatan_of_regency("12.17")][-1] == "Sitio-tio"
    assert len(kecamatan_of_regency("12.17")) == 9
    assert kecamatan_of_regency("12.99") == ()


def test_kecamatan_by_code() -> None:
    pangururan = kecamatan_by_code("12.17.08")
    assert pangururan is not None and pangururan.name == "Pangururan"
    assert kecamatan_by_code("12.17.10") is None


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Lumban Suhi-Suhi", "lumbansuhisuhi"),
        ("Lumbansuhi Suhi", "lumbansuhisuhi"),
        ("Kec. Sitio Tio", "sitiotio"),
        ("KECAMATAN  pangururan", "pangururan"),
        ("Kel. Pasar Merah Barat", "pasarmerahbarat"),
        ("Desa: Tomok", "tomok"),
        ("Desano", "desano"),  # a name that merely starts like a kind word keeps it
    ],
)
def test_place_key_ignores_case_spaces_punctuation_and_kind_words(written: str, key: str) -> None:
    assert place_key(written) == key


@pytest.mark.parametrize("written", ["Sitio-tio", "sitio tio", "Kec. SITIO-TIO", " Sitiotio "])
def test_find_kecamatan_matches_spelling_variants(written: str) -> None:
    found = find_kecamatan("12.17", written)
    assert found is not None and found.code == "12.17.09"


def test_find_kecamatan_only_in_the_regency_named() -> None:
    assert find_kecamatan("12.71", "Pangururan") is None  # a Samosir kecamatan, not Medan's
    assert find_kecamatan("12.17", "Kecamatan Uji") is None
    assert find_kecamatan("12.17", "  ") is None


def test_find_desa_in_a_kecamatan_and_refusing_to_guess_between_namesakes() -> None:
    tomok = find_desa("12.17", "desa tomok", "12.17.01")
    assert tomok is not None and tomok.code == "12.17.01.2001" and tomok.kind == "desa"
    assert find_desa("12.17", "Tomok", "12.17.08") is None  # not in Pangururan
    # "Sorkam Kanan" is written twice in one Tapanuli Tengah kecamatan, and names recur across
    # kecamatan: without a kecamatan an ambiguous name finds nothing rather than the wrong village.
    recurring = [d.name for d in desa_of_regency("12.01")]
    ambiguous = next(name for name in recurring if recurring.count(name) > 1)
    assert find_desa("12.01", ambiguous) is None
    assert find_desa("12.17", "Tomok") == tomok


def test_every_kecamatan_has_its_villages() -> None:
    assert all(desa_of_kecamatan(k.code) for k in all_kecamatan())
    assert [d.name for d in desa_of_kecamatan("12.17.01")][:2] == ["Tuktuk Siadong", "Tomok"]
    assert desa_of_kecamatan("12.17.99") == ()
