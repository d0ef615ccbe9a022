"""A decree's beneficiary list in canonical form, version 1: what DecreeIssued.list_sha256 hashes.

One line ``worker_id|regency|sector`` + LF per beneficiary, sorted by worker id in code-point
order, UTF-8 without BOM; the list hash is the lowercase hex SHA-256 of those bytes. No name and
no NIK: personal data stays out of the hash. Anyone can check a decree outside Lindung:
``LC_ALL=C sort -t'|' -k1,1 list.txt | sha256sum``. Allocation hashes the list it decrees with
these functions, and the auditor the list it rebuilds from the events.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

Listed = tuple[str, str, str]
"""One beneficiary: worker id, regency code, sector."""

_FORBIDDEN = ("|", "\n", "\r")


def canonical_line(worker_id: str, regency_code: str, sector: str) -> str:
    """One beneficiary's line; a value that is empty or holds '|' or a line break is refused."""
    for value in (worker_id, regency_code, sector):
        if not value or any(ch in value for ch in _FORBIDDEN):
            raise ValueError(f"{value!r} cannot stand in a canonical list line")
    return f"{worker_id}|{regency_code}|{sector}\n"


def canonical_list(listed: Iterable[Listed]) -> bytes:
    """The list in canonical form: one line per beneficiary, sorted by worker id."""
    ordered = sorted(listed, key=lambda entry: entry[0])
    return "".join(canonical_line(*entry) for entry in ordered).encode("utf-8")


def list_sha256(listed: Iterable[Listed]) -> str:
    """Lowercase hex SHA-256 of the canonical list: independent of the order given."""
    return hashlib.sha256(canonical_list(listed)).hexdigest()
