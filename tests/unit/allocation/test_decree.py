import hashlib
import random
import shutil
import subprocess
from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.allocation.domain.decree import Decree, DecreeDiff, DecreeEntry
from services.allocation.domain.sector import Sector

SAWIT, NON_SAWIT = Sector.SAWIT, Sector.NON_SAWIT


def entry(worker_id: str, regency: str = "12.71", sector: Sector = SAWIT, name: str = "Nama") -> DecreeEntry:
    return DecreeEntry(worker_id, "1271************", name, regency, sector)


def decree(entries: list[DecreeEntry], version: int = 1, code: str = "SUMUT-2025") -> Decree:
    return Decree(
        number=f"188.44/{100 + version}/KPTS/2025",
        date=date(2025, 3, 1),
        signer="Gubernur Sumatera Utara",
        programme_code=code,
        version=version,
        entries=tuple(entries),
    )


THREE = [entry("c"), entry("a", "12.04", NON_SAWIT), entry("b", "12.72", NON_SAWIT)]


def test_canonical_list_is_documented_lines_sorted_by_worker_id() -> None:
    assert decree(THREE).canonical_list() == (b"a|12.04|non_sawit\nb|12.72|non_sawit\nc|12.71|sawit\n")


def test_list_sha256_is_sha256_of_the_canonical_list() -> None:
    expected = hashlib.sha256(b"a|12.04|non_sawit\nb|12.72|non_sawit\nc|12.71|sawit\n")

    assert decree(THREE).list_sha256() == expected.hexdigest()
    assert decree([]).list_sha256() == ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")


def test_hash_ignores_order_names_and_niks_but_not_sectors() -> None:
    base = decree(THREE).list_sha256()
    renamed = [replace(e, name="Nama Baru", nik_masked="1271xxxxxxxx0001") for e in THREE]
    moved = [replace(THREE[0], sector=NON_SAWIT), *THREE[1:]]

    assert decree(list(reversed(THREE))).list_sha256() == base
    assert decree(renamed).list_sha256() == base
    assert decree(moved).list_sha256() != base


def test_an_auditor_can_recompute_the_hash_with_coreutils() -> None:
    if shutil.which("sort") is None:
        pytest.skip("coreutils sort not available")
    # Ids of unequal length and non-ASCII ones: where sorting whole lines would differ.
    ids = [f"w{n}" for n in range(50)] + ["a", "ab", "a-b", "b", "aé", "a0"]
    entries = [entry(worker_id, f"12.{n % 25 + 1:02d}") for n, worker_id in enumerate(ids)]
    shuffled = "".join(e.canonical_line() for e in random.Random(3).sample(entries, len(entries)))

    sorted_by_sort = subprocess.run(
        ["sort", "-t|", "-k1,1"],
        input=shuffled.encode(),
        capture_output=True,
        check=True,
        env={"LC_ALL": "C"},
    ).stdout

    assert hashlib.sha256(sorted_by_sort).hexdigest() == decree(entries).list_sha256()


@given(
    st.lists(st.text(alphabet="abcdefghij0123456789-ÄÖé", min_size=1, max_size=8), unique=True, max_size=20),
    st.randoms(),
)
def test_hash_is_order_independent(ids: list[str], rnd: random.Random) -> None:
    entries = [entry(worker_id) for worker_id in ids]
    shuffled = rnd.sample(entries, len(entries))

    assert decree(shuffled).list_sha256() == decree(entries).list_sha256()


def test_diff_for_an_sk_perubahan() -> None:
    first = decree([entry("a"), entry("b"), entry("c", name="Budi")])
    revision = decree([entry("c", name="Budi Santoso"), entry("d"), entry("a")], version=2)

    diff = revision.diff(first)

    assert diff == DecreeDiff(
        added=(entry("d"),),
        removed=(entry("b"),),
        changed=((entry("c", name="Budi"), entry("c", name="Budi Santoso")),),
    )
    assert not diff.is_empty
    assert decree(THREE, version=2).diff(decree(list(reversed(THREE)))).is_empty


def test_diff_needs_an_earlier_decree_of_the_same_programme() -> None:
    with pytest.raises(ValueError, match="SAMOSIR-2026"):
        decree(THREE, version=2).diff(decree(THREE, code="SAMOSIR-2026"))
    with pytest.raises(ValueError, match="does not follow"):
        decree(THREE, version=1).diff(decree(THREE, version=1))


@pytest.mark.parametrize(
    ("worker_id", "nik", "message"),
    [
        ("a|b", "1271************", "'\\|'"),
        ("a\nb", "1271************", "line break"),
        ("", "1271************", "empty"),
        ("a", "1271011505900001", "unmasked NIK"),
        ("a", "NIK 1271011505900001", "unmasked NIK"),
    ],
)
def test_bad_entries_are_refused(worker_id: str, nik: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DecreeEntry(worker_id, nik, "Nama", "12.71", SAWIT)


def test_unmasked_nik_never_reaches_the_error_message() -> None:
    with pytest.raises(ValueError) as raised:
        DecreeEntry("a", "1271011505900001", "Nama", "12.71", SAWIT)

    assert "1271011505900001" not in str(raised.value)


def test_bad_decrees_are_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        decree([entry("a"), entry("a", "12.04")])
    with pytest.raises(ValueError, match="version"):
        decree(THREE, version=0)
    with pytest.raises(ValueError, match="signer"):
        replace(decree(THREE), signer=" ")
