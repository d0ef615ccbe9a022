"""Facts about one worker: their nomination, their place in a programme, their BPJS membership."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

from pydantic import Field, model_validator

from libs.regions import kecamatan_of_nik
from services.dashboard.domain.facts.base import Code, Fact

_NIK = re.compile(r"\d{16}")


def kecamatan_code(payload: dict[str, Any], from_nik: bool = True) -> str | None:
    """The kecamatan ("12.RR.KK") an event places its worker in: the first three parts of the
    desa code when it carries one, else (`from_nik`) NIK digits 1–6 of a 16-digit NIK; None for
    a forgotten or sealed NIK and for a code no kecamatan has. Only the code is kept, never the NIK."""
    desa = payload.get("desa_code")
    if isinstance(desa, str) and desa.count(".") == 3:
        return desa.rsplit(".", 1)[0]
    if not from_nik:
        return None
    identity = payload.get("identity")
    nik = identity.get("nik") if isinstance(identity, dict) else payload.get("nik")
    if isinstance(nik, str) and _NIK.fullmatch(nik):
        found = kecamatan_of_nik(nik)
        return found.code if found else None
    return None


# Fields a fact derives on extraction rather than reads from its contract.
DERIVED_FIELDS = frozenset({"kecamatan_code"})


class Placed(Fact):
    """A fact that places its worker in a kecamatan (`kecamatan_code`, derived on extraction)."""

    # Registry facts fall back on the NIK; allocation's take the desa only, so that a placement
    # without one counts in its nomination's kecamatan (the views join them).
    kecamatan_from_nik: ClassVar[bool] = True

    kecamatan_code: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive_kecamatan(cls, data: Any) -> Any:
        # A minimised payload (the inbox's copy) carries the code already and no NIK.
        if isinstance(data, dict) and data.get("kecamatan_code") is None:
            return {**data, "kecamatan_code": kecamatan_code(data, cls.kecamatan_from_nik)}
        return data


class SeatPlaced(Placed):
    kecamatan_from_nik: ClassVar[bool] = False


class Nominated(Placed):
    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    sector: str


class Validated(Placed):
    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    sector: str


class Rejected(Fact):
    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    reasons: list[Code] = Field(min_length=1)


class Corrected(Placed):
    """A rejected nomination corrected (maybe to another NIK: another worker id); a decision follows."""

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    sector: str


class Withdrawn(Fact):
    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    reason: str


class Assigned(SeatPlaced):
    worker_id: str
    programme_code: str
    regency_code: str
    sector: str
    promoted: bool = False
    desa_code: str | None = None  # an official place code, counted against the village cap


class Waitlisted(SeatPlaced):
    worker_id: str
    programme_code: str
    regency_code: str
    sector: str
    position: int
    reason: str


class Unseated(SeatPlaced):
    """A provisional seat given to a poorer worker before the first decree: back to waiting."""

    worker_id: str
    programme_code: str
    regency_code: str
    sector: str
    position: int
    reason: str = "no_seat"


class Declined(Fact):
    """A validated worker an overlapping programme holds: never seated here."""

    worker_id: str
    programme_code: str
    regency_code: str
    sector: str


class Released(Fact):
    worker_id: str
    programme_code: str
    regency_code: str
    sector: str
    reason: str


class Decreed(Fact):
    worker_id: str
    programme_code: str
    decree_number: str
    regency_code: str
    sector: str


class Enrolled(Fact):
    worker_id: str
    programme_code: str
    regency_code: str


class EnrolmentFailed(Fact):
    worker_id: str
    programme_code: str
    regency_code: str
    reason_code: str


class MembershipOver(Fact):
    """BPJS ended the BPU membership after more unpaid months than it accepts in arrears."""

    worker_id: str
    programme_code: str
    regency_code: str
    ended_on: date


class Lapsed(Fact):
    worker_id: str
    programme_code: str
    lapsed_on: date


class Restored(Fact):
    """The lapsed month was paid after all: coverage is whole again."""

    worker_id: str
    programme_code: str
