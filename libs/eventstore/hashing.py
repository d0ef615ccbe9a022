"""The per-stream hash chain that makes edits and deletions in the event store evident."""

from __future__ import annotations

import hashlib

from libs.events.envelope import Envelope

GENESIS_HASH = "0" * 64


def chain_hash(prev_hash: str, envelope: Envelope) -> str:
    """SHA-256 over the previous hash, a newline, and the envelope's canonical JSON."""
    return chain_hash_of_text(prev_hash, envelope.canonical_json())


def chain_hash_of_text(prev_hash: str, canonical_json: str) -> str:
    """`chain_hash` of an envelope whose canonical JSON is already written (serialised once)."""
    return hashlib.sha256(f"{prev_hash}\n{canonical_json}".encode()).hexdigest()
