"""The run's own books of a programme year: who the programme pays for, and who must be billed
for which month, from the events the run caused (never read back from the stack)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from lindung_cli.benchmarks.year_people import Worker


@dataclass
class Member:
    """A worker the programme pays for, as the run caused it."""

    worker: Worker
    worker_id: str
    nomination_id: str = ""
    enrolled_month: str | None = None
    ended: str | None = None  # why the programme stopped paying (died, moved...)
    last_month: str | None = None  # the last month billable after an end
    membership_ended: bool = False
    kpj: str | None = None


@dataclass
class Books:
    """Who must be billed for which month, from the events the run caused (never read back)."""

    premium: int
    members: dict[str, Member] = field(default_factory=dict)
    billed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    unpaid: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # worker -> months

    def due(self, month: str, regency: str | None = None) -> set[str]:
        """Members a bill of `month` must hold: enrolled by then, no end before the month, not
        billed for it yet."""
        return {
            m.worker_id
            for m in self.members.values()
            if m.enrolled_month is not None
            and m.enrolled_month <= month
            and not m.membership_ended
            and (m.last_month is None or month <= m.last_month)
            and (regency is None or m.worker.regency == regency)
            and m.worker_id not in self.billed[month]
        }

    def worker_months(self) -> int:
        return sum(len(ids) for ids in self.billed.values())

    def total(self) -> int:
        return self.worker_months() * self.premium
