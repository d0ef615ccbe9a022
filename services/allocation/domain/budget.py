"""Budget position of a programme: what its quota costs against its cap, in whole rupiah.

Every amount is an `int`: rupiah have no fractions, and a float anywhere here would let a
rounding error buy or refuse a worker-year. Floats and bools are refused at construction.
"""

from __future__ import annotations

from dataclasses import dataclass


def _require_int(name: str, value: object, minimum: int) -> None:
    # bool is a subclass of int; True rupiah is a bug, not a budget.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (whole rupiah/workers), got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


@dataclass(frozen=True, slots=True)
class BudgetPosition:
    """A programme's cap against the cost of its seats and of the workers already committed.

    `committed_workers` are workers holding a seat (assigned), each costing `cost_per_worker`
    (premium per month × months) for the programme's whole period.
    """

    cap: int
    cost_per_worker: int
    seats_total: int
    committed_workers: int = 0

    def __post_init__(self) -> None:
        _require_int("cap", self.cap, 0)
        _require_int("cost_per_worker", self.cost_per_worker, 1)
        _require_int("seats_total", self.seats_total, 0)
        _require_int("committed_workers", self.committed_workers, 0)

    @property
    def quota_cost(self) -> int:
        """What filling every seat would cost."""
        return self.seats_total * self.cost_per_worker

    @property
    def shortfall(self) -> int:
        """How much the cap is short of the quota cost (0 when the quota is fully funded)."""
        return max(0, self.quota_cost - self.cap)

    @property
    def affordable_workers(self) -> int:
        """Whole worker-periods the cap pays for; never rounded up."""
        return self.cap // self.cost_per_worker

    @property
    def fundable_seats(self) -> int:
        """Seats that can actually be filled: the quota, limited by the cap."""
        return min(self.seats_total, self.affordable_workers)

    @property
    def committed_rupiah(self) -> int:
        """What the committed workers cost."""
        return self.committed_workers * self.cost_per_worker

    @property
    def headroom(self) -> int:
        """Rupiah of the cap not yet committed (0 when over-committed, see `overcommitted`)."""
        return max(0, self.cap - self.committed_rupiah)

    @property
    def overcommitted(self) -> int:
        """Rupiah committed beyond the cap: only possible after the cap was cut (APBD-P)."""
        return max(0, self.committed_rupiah - self.cap)

    def can_commit_one(self) -> bool:
        """True when the cap still pays for one more worker."""
        return self.committed_workers < self.affordable_workers
