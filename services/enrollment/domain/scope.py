"""What a caller may learn about a worker's registrations: nothing beyond their own regency's.

A regency officer who asks about a person registered only in another regency gets exactly the
answer for a person nobody registered (docs/security.md, "No oracles across regencies"): the
registrations they may not see are not there for them, rather than refused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar


class Registered(Protocol):
    @property
    def regency_code(self) -> str: ...


R = TypeVar("R", bound=Registered)


def visible_registrations(registrations: Iterable[R], may_see_regency: Callable[[str], bool]) -> list[R]:
    """The registrations whose regency the caller may see, in the order given."""
    return [r for r in registrations if may_see_regency(r.regency_code)]
