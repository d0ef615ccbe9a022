"""The per-stream hash chain that makes edits and deletions in the event store evident."""

from __future__ import annotations

import hashlib

from libs.events.envelope import Envelope

GENESIS_HASH = "0" * 64


def chain_hash(prev_hash: str, envelope: Envelope) -> str:
    """SHA-256 over the previous hash, a newline, and the envelope's canonical JSON."""
    return hashlib.sha256(f"{prev_hash}\n{envelope.canonical_json()}".encode()).hexdigest()
