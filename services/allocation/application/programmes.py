"""Defining a programme: the programme office's settings, validated, become a ProgrammeDefined
event (domain/programme_facts.py; recorded by `Commands.define_programme`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from libs.regions import all_regions
from services.allocation.domain.programme import Programme
from services.allocation.domain.programme_facts import (
    ProgrammeAlreadyDefined,
    ProgrammeFacts,
    ProgrammeNotDefined,
    programme_defined,
)

__all__ = [
    "ProgrammeAlreadyDefined",
    "ProgrammeFacts",
    "ProgrammeNotDefined",
    "parse_programme",
    "programme_defined",
]


def parse_programme(data: Mapping[str, Any]) -> Programme:
    """Validate a programme mapping (from YAML or JSON) against the region table."""
    return Programme.from_mapping(data, [r.kemendagri_code for r in all_regions()])
