"""A programme's quota stream on the wire, as the application and its tests name it: the mapping
lives in domain/quota_wire.py, the stream's state and decider in domain/programme_stream.py and
domain/programme_commands.py."""

from __future__ import annotations

from libs.desil import DTKS_RANK, rank_desil
from services.allocation.domain.quota_wire import nominated_at, nomination_seq, stream_of, to_domain

__all__ = ["DTKS_RANK", "nominated_at", "nomination_seq", "rank_desil", "stream_of", "to_domain"]
