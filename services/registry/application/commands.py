"""Commands the registry accepts, whatever the way in (HTTP, upload, Kafka, CLI)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class NominateWorker(BaseModel):
    """One worker proposed for a programme by a regency office.

    Fields are deliberately loose (plain strings): a wrong value goes back to the officer as a
    rejection with a reason code, not as a parser error.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    programme_code: str = Field(min_length=1, max_length=60)
    nik: str = Field(max_length=32)
    full_name: str = Field(max_length=200)
    birth_date: date
    sex: str = Field(max_length=10, description="L (laki-laki) or P (perempuan)")
    occupation: str = Field(max_length=100)
    regency_code: str = Field(
        max_length=10, description="Kemendagri code of the nominating regency, e.g. 12.17"
    )
    kecamatan: str = Field(max_length=100)
    desa: str = Field(max_length=100)
    address: str = Field(default="", max_length=300)
    phone: str | None = Field(default=None, max_length=30)
    sector: str = Field(max_length=20, description="sawit or non_sawit")
    decile: int | None = Field(default=None, ge=1, le=10)
    source_ref: str | None = Field(default=None, max_length=100)
