"""The desil a worker ranks by on allocation's waitlists and in its decrees.

Registry validates a worker either by their P3KE desil (1 poorest .. 10) or by their membership
of DTKS (DTSEN) alone, in which case WorkerValidated carries no desil. Allocation ranks such a
worker after every P3KE desil, and its read models and reports show that rank: one rule, here.
"""

from __future__ import annotations

DTKS_RANK = 10
"""Desil given to a worker found through DTKS without a P3KE desil: after every P3KE decile."""


def rank_desil(decile: int | None) -> int:
    """The desil a worker ranks by: their P3KE desil, or DTKS_RANK without one."""
    return DTKS_RANK if decile is None else decile
