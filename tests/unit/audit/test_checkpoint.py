"""The pure parts of checkpoints: Merkle root, deltas, signatures, and heads against a checkpoint."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from libs.audit.checkpoint import (
    EMPTY_ROOT,
    Checkpointer,
    CheckpointRefused,
    changed_heads,
    claimed_heads,
    head_changes,
    merkle_root,
    open_signed,
    parse_line,
    reconstruct,
    sign,
)
from libs.events.signing import Keyring, Signer, keyring_json

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
HEADS = {"w-1": (3, "a" * 64), "w-2": (1, "b" * 64), "w-3": (7, "c" * 64)}


def _leaf(stream: str, version: int, digest: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{stream}\n{version}\n{digest}".encode()).digest()


def test_the_merkle_root_is_computed_as_documented() -> None:
    leaves = [_leaf(s, *HEADS[s]) for s in sorted(HEADS)]
    left = hashlib.sha256(b"\x01" + leaves[0] + leaves[1]).digest()
    # Three leaves: the odd one goes up unpaired.
    assert merkle_root(HEADS) == hashlib.sha256(b"\x01" + left + leaves[2]).hexdigest()
    assert merkle_root({"w-1": HEADS["w-1"]}) == leaves[0].hex()
    assert merkle_root({}) == EMPTY_ROOT


def test_the_root_changes_with_any_head_and_not_with_order() -> None:
    reordered = dict(reversed(list(HEADS.items())))
    assert merkle_root(reordered) == merkle_root(HEADS)
    for stream, (version, digest) in HEADS.items():
        assert merkle_root({**HEADS, stream: (version, "f" * 64)}) != merkle_root(HEADS)
        assert merkle_root({**HEADS, stream: (version + 1, digest)}) != merkle_root(HEADS)
    assert merkle_root({k: v for k, v in HEADS.items() if k != "w-2"}) != merkle_root(HEADS)


def test_a_checkpointer_sends_every_head_first_then_what_changed() -> None:
    checkpointer = Checkpointer("lindung", "registry", "registry")
    first = checkpointer.take(HEADS, T0)
    moved = {**HEADS, "w-2": (2, "d" * 64), "w-4": (1, "e" * 64)}
    second = checkpointer.take(moved, T0 + timedelta(hours=1))
    assert first.full and first.heads == HEADS and first.previous_id is None
    assert not second.full and second.previous_id == first.checkpoint_id
    assert second.heads == {"w-2": (2, "d" * 64), "w-4": (1, "e" * 64)}
    assert second.streams == 4 and second.root == merkle_root(moved)
    assert reconstruct([first, second], second) == moved
    assert reconstruct([second], second) is None  # the full one lost
    assert changed_heads(None, HEADS) == HEADS


def _keys() -> tuple[Signer, Keyring]:
    signer = Signer.generate("registry-1")
    return signer, Keyring.parse(keyring_json([signer.trusted("registry")]))


def test_a_signed_line_opens_with_the_keyring_and_refuses_any_change() -> None:
    signer, keyring = _keys()
    checkpoint = Checkpointer("lindung", "registry", "registry").take(HEADS, T0)
    line = sign(checkpoint, signer).line()
    assert open_signed(parse_line(line), keyring) == checkpoint
    changed = json.loads(line)
    changed["checkpoint"]["heads"]["w-1"] = [3, "0" * 64]
    with pytest.raises(CheckpointRefused, match="SIGNATURE_INVALID"):
        open_signed(parse_line(json.dumps(changed)), keyring)
    with pytest.raises(CheckpointRefused, match="not a checkpoint line"):
        parse_line("{not json")


def test_a_checkpoint_must_be_signed_by_a_key_of_its_producer() -> None:
    signer, keyring = _keys()
    foreign = Checkpointer("lindung", "allocation", "allocation").take(HEADS, T0)
    with pytest.raises(CheckpointRefused, match="SIGNATURE_WRONG_PRODUCER"):
        open_signed(sign(foreign, signer), keyring)
    stranger = Signer.generate("stranger")
    own = Checkpointer("lindung", "registry", "registry").take(HEADS, T0)
    with pytest.raises(CheckpointRefused, match="SIGNATURE_KEY_UNKNOWN"):
        open_signed(sign(own, stranger), keyring)


def test_heads_rewritten_or_cut_after_a_checkpoint_are_named() -> None:
    checkpointer = Checkpointer("lindung", "registry", "registry")
    first = checkpointer.take(HEADS, T0)
    second = checkpointer.take({**HEADS, "w-1": (4, "9" * 64)}, T0 + timedelta(hours=1))
    claims = claimed_heads([second, first])
    assert set(claims) == {
        ("w-1", 3, "a" * 64),
        ("w-2", 1, "b" * 64),
        ("w-3", 7, "c" * 64),
        ("w-1", 4, "9" * 64),
    }
    store = {("w-1", 3): "a" * 64, ("w-1", 4): "9" * 64, ("w-2", 1): "b" * 64, ("w-3", 7): "c" * 64}
    assert head_changes("registry", claims, store) == []
    # w-1 rewritten from version 3 on (its head at 4 is hashed anew too); w-3 cut back to 6.
    tampered = {**store, ("w-1", 3): "5" * 64, ("w-1", 4): "6" * 64}
    del tampered[("w-3", 7)]
    changes = head_changes("registry", claims, tampered)
    assert [(c.stream, c.version, c.found_hash) for c in changes] == [
        ("w-1", 3, "5" * 64),
        ("w-1", 4, "6" * 64),
        ("w-3", 7, None),
    ]
    assert "rewritten" in changes[0].describe() and "cut" in changes[2].describe()
    assert changes[1].checkpoint_id == second.checkpoint_id
