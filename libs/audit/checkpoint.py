"""Signed checkpoints of an event store's stream heads: the anchor outside the database.

The hash chain shows an edit only to someone who recomputes it from a trusted starting point;
whoever can write to the database can rewrite a stream and its chain consistently. A checkpoint
records, at an instant, each stream's head (last version and its hash) and a Merkle root over
them, signed with the service's Ed25519 key, and lives outside the database (an append-only file
and a topic). Later, every checkpointed head must still be in the store with the same hash: a
stream rewritten or cut short after the checkpoint is named (see `head_changes`).

A checkpointer sends every head the first time, then only the heads that changed since its last
checkpoint (`previous_id` links them); `root` always covers every head, so the chain of
checkpoints from a full one reconstructs the signed root (`reconstruct`).

Pure code: no I/O (the database, the file and the topic are in checkpoint_store.py).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from libs.events.signing import KEY_ID_HEADER, SIGNATURE_HEADER, Keyring, Signer, check_producer

Head = tuple[int, str]
"""A stream's last version and that event's chain hash."""

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()


def _leaf(stream: str, head: Head) -> bytes:
    # Domain-separated leaves and nodes (as RFC 6962): a node can never pass for a leaf.
    return hashlib.sha256(b"\x00" + f"{stream}\n{head[0]}\n{head[1]}".encode()).digest()


def merkle_root(heads: Mapping[str, Head]) -> str:
    """The Merkle root over the heads, leaves in stream order; an odd node goes up unpaired."""
    level = [_leaf(stream, heads[stream]) for stream in sorted(heads)]
    if not level:
        return EMPTY_ROOT
    while len(level) > 1:
        paired = [
            hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        level = paired + ([level[-1]] if len(level) % 2 else [])
    return level[0].hex()


class Checkpoint(BaseModel):
    """One checkpoint of one store (the service schema `store`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    checkpoint_id: str
    # The database (its name) and the service schema checkpointed.
    database: str
    store: str
    producer: str
    taken_at: datetime
    streams: int
    root: str
    full: bool
    previous_id: str | None
    # stream -> [version, hash]: every head when `full`, else those changed since `previous_id`.
    heads: dict[str, tuple[int, str]]


def canonical(body: Mapping[str, Any]) -> bytes:
    """The bytes a checkpoint's signature covers (and the topic's record value)."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def changed_heads(previous: Mapping[str, Head] | None, current: Mapping[str, Head]) -> dict[str, Head]:
    """The heads of `current` that `previous` does not hold as they are now (all without one)."""
    if previous is None:
        return dict(current)
    return {s: h for s, h in current.items() if previous.get(s) != h}


class Checkpointer:
    """Successive checkpoints of one store by one process: a full one, then deltas."""

    def __init__(self, database: str, store: str, producer: str) -> None:
        self.database = database
        self.store = store
        self.producer = producer
        self._last: tuple[str, dict[str, Head]] | None = None

    def take(self, heads: Mapping[str, Head], taken_at: datetime) -> Checkpoint:
        previous_id, previous = self._last if self._last is not None else (None, None)
        checkpoint = Checkpoint(
            checkpoint_id=str(uuid.uuid4()),
            database=self.database,
            store=self.store,
            producer=self.producer,
            taken_at=taken_at,
            streams=len(heads),
            root=merkle_root(heads),
            full=previous is None,
            previous_id=previous_id,
            heads=changed_heads(previous, heads),
        )
        self._last = (checkpoint.checkpoint_id, dict(heads))
        return checkpoint


@dataclass(frozen=True)
class Signed:
    """A checkpoint's canonical body and its signature (the file line, the topic record)."""

    body: bytes
    key_id: str
    signature: str

    def line(self) -> str:
        """One JSON line of the checkpoint file."""
        return json.dumps(
            {"checkpoint": json.loads(self.body), "key_id": self.key_id, "signature": self.signature},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def headers(self) -> list[tuple[str, bytes]]:
        return [(KEY_ID_HEADER, self.key_id.encode()), (SIGNATURE_HEADER, self.signature.encode())]


def sign(checkpoint: Checkpoint, signer: Signer) -> Signed:
    body = canonical(checkpoint.model_dump(mode="json"))
    return Signed(body, signer.key_id, signer.signature(body))


class CheckpointRefused(Exception):
    """A checkpoint that cannot be trusted: unreadable, unsigned, or signed by no key we trust."""


def parse_line(line: str) -> Signed:
    """A checkpoint file line back as a Signed (the body re-serialised canonically)."""
    try:
        found = json.loads(line)
        return Signed(canonical(found["checkpoint"]), str(found["key_id"]), str(found["signature"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointRefused(f"not a checkpoint line: {type(exc).__name__}") from exc


def open_signed(signed: Signed, keyring: Keyring) -> Checkpoint:
    """The checkpoint, once its signature is proven by a key of the keyring speaking for its
    producer; raises CheckpointRefused (with the signature code) otherwise."""
    from libs.events.signing import SignatureRefused

    try:
        key = keyring.verify(signed.body, signed.headers())
        checkpoint = Checkpoint.model_validate_json(signed.body)
        check_producer(key, checkpoint.producer)
    except SignatureRefused as exc:
        raise CheckpointRefused(f"{exc.code} (key {signed.key_id!r})") from exc
    except ValidationError as exc:
        raise CheckpointRefused(f"signed but not a checkpoint: {exc.error_count()} errors") from exc
    return checkpoint


@dataclass(frozen=True)
class HeadChange:
    """A checkpointed head the store no longer holds as it was."""

    store: str
    stream: str
    version: int
    checkpointed_hash: str
    found_hash: str | None  # None: the version is gone
    checkpoint_id: str
    taken_at: datetime

    def describe(self) -> str:
        when = f"checkpoint {self.checkpoint_id[:8]} of {self.taken_at.isoformat()}"
        if self.found_hash is None:
            return f"version {self.version} recorded in {when} is gone: history cut"
        return f"version {self.version} no longer hashes as in {when}: history rewritten"


Claims = dict[tuple[str, int, str], Checkpoint]
"""(stream, version, hash) -> the first checkpoint that vouched for it."""


def claimed_heads(checkpoints: Iterable[Checkpoint]) -> Claims:
    """Every head some checkpoint vouches for (deltas repeat nothing; full ones may)."""
    claims: Claims = {}
    for checkpoint in sorted(checkpoints, key=lambda c: c.taken_at):
        for stream, (version, digest) in checkpoint.heads.items():
            claims.setdefault((stream, version, digest), checkpoint)
    return claims


def head_changes(store: str, claims: Claims, found: Mapping[tuple[str, int], str]) -> list[HeadChange]:
    """Each claimed head whose version is absent from `found` (the store's hashes at those
    versions) or hashes differently (two checkpoints disagreeing on a version: one of them)."""
    changes: list[HeadChange] = []
    for (stream, version, digest), checkpoint in sorted(claims.items()):
        now = found.get((stream, version))
        if now != digest:
            changes.append(
                HeadChange(store, stream, version, digest, now, checkpoint.checkpoint_id, checkpoint.taken_at)
            )
    return changes


def reconstruct(checkpoints: Sequence[Checkpoint], last: Checkpoint) -> dict[str, Head] | None:
    """Every head `last` covers, from the full checkpoint its `previous_id` links lead back to;
    None when a link is missing (a line lost from the file)."""
    by_id = {c.checkpoint_id: c for c in checkpoints}
    chain = [last]
    while not chain[-1].full:
        previous_id = chain[-1].previous_id
        if previous_id is None or previous_id not in by_id:
            return None
        chain.append(by_id[previous_id])
    heads: dict[str, Head] = {}
    for checkpoint in reversed(chain):
        heads.update(checkpoint.heads)
    return heads
