"""Rules several services share, each in its one libs home: the DTKS desil rank, the decree's
canonical list, the coverage reason codes."""

from __future__ import annotations

import hashlib

import pytest

from libs.decree_list import canonical_line, canonical_list, list_sha256
from libs.desil import DTKS_RANK, rank_desil
from libs.events.contracts.coverage import CoverageReason


def test_a_worker_without_a_p3ke_desil_ranks_after_every_desil() -> None:
    assert rank_desil(None) == DTKS_RANK == 10
    assert [rank_desil(d) for d in (1, 2, 9)] == [1, 2, 9]


def test_the_canonical_list_is_sorted_lines_hashed_as_sha256sum_would() -> None:
    listed = [("w2", "12.71", "sawit"), ("w1", "12.17", "non_sawit")]
    text = b"w1|12.17|non_sawit\nw2|12.71|sawit\n"
    assert canonical_list(listed) == text
    assert list_sha256(listed) == list_sha256(reversed(listed)) == hashlib.sha256(text).hexdigest()
    assert list_sha256([]) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("value", ["", "a|b", "a\nb", "a\rb"])
def test_a_value_that_would_break_a_line_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="canonical list line"):
        canonical_line(value, "12.17", "sawit")


def test_reason_codes_are_their_own_names() -> None:
    # Stable codes: events, flags and reports carry the strings, so each value is its name.
    assert all(reason.value == reason.name for reason in CoverageReason)
    assert f"{CoverageReason.NOT_ENROLLED}" == "NOT_ENROLLED"
