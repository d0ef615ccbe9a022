"""The audit's canonical beneficiary list is allocation's decree list, byte for byte."""

from __future__ import annotations

import hashlib
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lindung_cli.audit.beneficiaries import Beneficiary, canonical_list, list_sha256
from services.allocation.domain.decree import Decree, DecreeEntry
from services.allocation.domain.sector import Sector

worker_ids = st.text(
    alphabet=st.characters(blacklist_characters="|\n\r", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=40,
)
entries = st.dictionaries(
    worker_ids,
    st.tuples(st.sampled_from(["12.17", "12.71", "12.05", "12.78"]), st.sampled_from(["sawit", "non_sawit"])),
    max_size=30,
)


@given(entries)
def test_both_implementations_hash_the_same_list(listed: dict[str, tuple[str, str]]) -> None:
    ours = [Beneficiary(w, r, s) for w, (r, s) in listed.items()]
    decree = Decree(
        "188.44/1/KPTS/2026",
        date(2026, 2, 1),
        "Gubernur",
        "SUMUT-2026",
        1,
        tuple(DecreeEntry(w, "1217**********01", "Nama", r, Sector(s)) for w, (r, s) in listed.items()),
    )
    assert canonical_list(ours) == decree.canonical_list()
    assert list_sha256(ours) == decree.list_sha256()
    assert list_sha256(reversed(ours)) == list_sha256(ours)


def test_the_canonical_form_is_the_documented_one() -> None:
    listed = [Beneficiary("b", "12.71", "sawit"), Beneficiary("a", "12.17", "non_sawit")]
    text = b"a|12.17|non_sawit\nb|12.71|sawit\n"
    assert canonical_list(listed) == text
    assert list_sha256(listed) == hashlib.sha256(text).hexdigest()
    assert list_sha256([]) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("bad", ["a|b", "a\nb", ""])
def test_a_value_that_would_break_a_line_is_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        canonical_list([Beneficiary(bad, "12.17", "sawit")])
