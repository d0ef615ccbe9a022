"""Upcasters: turn a stored payload of an old schema version into the next version.

Audits replay years of events, so old versions stay readable: each upcaster lifts one
(event_type, version) to version + 1, and they chain until the current version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from libs.events.contracts.registry import WITHDRAWN_BY_UNRECORDED

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]

_UPCASTERS: dict[tuple[str, int], Upcaster] = {}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register `fn` as the upcaster from `from_version` to `from_version + 1`."""

    def register(fn: Upcaster) -> Upcaster:
        key = (event_type, from_version)
        if key in _UPCASTERS:
            raise ValueError(f"upcaster for {event_type} v{from_version} registered twice")
        _UPCASTERS[key] = fn
        return fn

    return register


def upcast(event_type: str, version: int, target: int, payload: Payload) -> Payload:
    """Lift `payload` from `version` to `target`; raises LookupError when a step is missing."""
    while version < target:
        step = _UPCASTERS.get((event_type, version))
        if step is None:
            raise LookupError(f"no upcaster for {event_type} v{version} -> v{version + 1}")
        payload = step(dict(payload))
        version += 1
    return payload


@upcaster("WorkerNominated", 1)
def _worker_nominated_v1_to_v2(payload: Payload) -> Payload:
    # v1 (the 2024 pilot) carried a boolean `sawit`; v2 names the sector.
    payload["sector"] = "sawit" if payload.pop("sawit", False) else "non_sawit"
    return payload


@upcaster("NominationWithdrawn", 1)
def _nomination_withdrawn_v1_to_v2(payload: Payload) -> Payload:
    # v1 did not record who withdrew; v2 does. Nobody can say now who it was.
    payload.setdefault("withdrawn_by", WITHDRAWN_BY_UNRECORDED)
    return payload
