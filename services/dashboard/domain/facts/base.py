"""The base of every fact: a consumed event reduced to the fields the dashboard counts with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Fact(BaseModel):
    """A consumed event reduced to what the dashboard counts with (other fields are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Code(Fact):
    """A reason, by its stable code only (messages may quote personal data)."""

    code: str
