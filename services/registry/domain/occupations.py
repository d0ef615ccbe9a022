"""Occupations as officers write them, matched to the kinds of work a programme lists.

Programme files list occupations in the seeds' words ("pedagang kaki lima", "buruh harian lepas");
officers write "PKL", "pedagang", "buruh harian", "supir", "jukir", "penarik becak"... A written
occupation and a listed one match when they name the same kind of work: each kind below lists its
common names and spellings (DOMAIN.md, "Who qualifies"). A name of none of these kinds is its own
kind, matched after the same normalisation (case, spaces, hyphens and punctuation ignored).

A name may name two kinds ("petani sawit" is a farmer and a palm-oil worker): it matches a
programme listing either. A name that starts with a kind's name followed by more words
("pedagang sayur keliling", "nelayan danau toba") is of that kind too.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")

KINDS: dict[str, tuple[str, ...]] = {
    "petani": ("petani", "tani", "bertani", "pekebun", "petani penggarap", "buruh tani", "petani sawit"),
    "nelayan": ("nelayan", "nelayan tradisional", "nelayan kecil", "penangkap ikan", "pembudidaya ikan"),
    "sopir": (
        "sopir", "supir", "pengemudi", "driver", "sopir angkot", "supir angkot", "ojek", "tukang ojek",
        "ojol", "pengemudi ojek",
    ),
    "pemulung": ("pemulung", "pengumpul barang bekas", "pemungut sampah", "pengepul barang bekas"),
    "tukang becak": (
        "tukang becak", "becak", "penarik becak", "pengayuh becak", "abang becak", "pengemudi becak",
        "betor", "becak motor", "penarik betor", "tukang betor",
    ),
    "juru parkir": ("juru parkir", "jukir", "tukang parkir", "petugas parkir"),
    "buruh harian": (
        "buruh harian", "buruh harian lepas", "bhl", "buruh lepas", "pekerja harian lepas",
        "pekerja harian", "buruh serabutan", "pekerja serabutan", "kuli angkut", "buruh angkut",
    ),
    "pedagang": (
        "pedagang", "pedagang kaki lima", "pkl", "pedagang keliling", "pedagang asongan",
        "pedagang kecil", "penjual", "berjualan", "jualan", "pengecer",
    ),
    "pekerja sosial keagamaan": (
        "pekerja sosial keagamaan", "pekerja keagamaan", "guru ngaji", "marbot", "marbut",
        "imam masjid", "bilal", "penjaga masjid", "penjaga rumah ibadah", "koster", "sintua",
    ),
    "pekerja sawit": (
        "pekerja sawit", "buruh sawit", "pemanen sawit", "pekerja kebun sawit", "buruh kebun sawit",
        "pekerja kelapa sawit", "buruh kelapa sawit", "petani sawit", "pemuat sawit", "pengangkut sawit",
        "pengutip brondolan", "pendodos sawit",
    ),
    "lainnya": ("lainnya", "lain lain", "lain"),
}  # fmt: skip
"""Each kind of work with its names as written (normalised by :func:`occupation_key`)."""


def occupation_key(name: str) -> str:
    """Lower case, letters and digits in single-spaced words: "Buruh Harian-Lepas" -> "buruh harian lepas"."""
    return " ".join(_NOT_ALNUM.split(name.casefold())).strip()


# Officers write few distinct occupations, and every nomination is checked against them: a
# profile of a province-year showed a third of the registry's CPU matching the same strings again.
@lru_cache(maxsize=8192)
def kinds_of(name: str) -> frozenset[str]:
    """The kinds of work `name` names: those listing it (or a first part of it), else itself."""
    key = occupation_key(name)
    if not key:
        return frozenset()
    found = {kind for kind, names in _keys().items() if any(_names(key, known) for known in names)}
    return frozenset(found) if found else frozenset({key})


def same_work(written: str, listed: frozenset[str]) -> bool:
    """True when the written occupation names a kind of work the list names."""
    return bool(kinds_of(written) & _kinds_listed(listed))


@lru_cache(maxsize=256)
def _kinds_listed(listed: frozenset[str]) -> frozenset[str]:
    """Every kind of work a programme's list names."""
    return frozenset().union(*(kinds_of(name) for name in listed))


def _names(key: str, known: str) -> bool:
    return key == known or key.startswith(known + " ")


@cache
def _keys() -> dict[str, tuple[str, ...]]:
    return {kind: tuple(occupation_key(n) for n in names) for kind, names in KINDS.items()}
