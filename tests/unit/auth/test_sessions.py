"""Signed session cookies: they name a key hash, expire, and cannot be forged or altered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from libs.auth import SessionSigner, hash_key

NOW = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
HASH = hash_key("kunci-petugas")


def test_a_token_names_the_key_hash_until_it_expires() -> None:
    signer = SessionSigner("rahasia", timedelta(hours=8))
    token = signer.issue(HASH, NOW)
    assert "kunci-petugas" not in token
    assert signer.verify(token, NOW + timedelta(hours=7, minutes=59)) == HASH
    assert signer.verify(token, NOW + timedelta(hours=8)) is None


def test_altered_or_foreign_tokens_are_refused() -> None:
    signer = SessionSigner("rahasia", timedelta(hours=8))
    token = signer.issue(HASH, NOW)
    body, _, signature = token.rpartition(".")
    later = body.replace(body.split(".")[2], str(int(body.split(".")[2]) + 3600))
    assert signer.verify(f"{later}.{signature}", NOW) is None  # expiry pushed back
    other_hash = hash_key("kunci-admin")
    assert signer.verify(token.replace(HASH, other_hash), NOW) is None  # another key
    assert SessionSigner("rahasia-lain", timedelta(hours=8)).verify(token, NOW) is None
    for junk in ("", "v1", "v1.x.y.z", token + "x", token.replace("v1.", "v2.")):
        assert signer.verify(junk, NOW) is None


def test_without_a_configured_secret_sessions_live_as_long_as_the_process() -> None:
    first, second = SessionSigner(None, timedelta(hours=1)), SessionSigner("", timedelta(hours=1))
    assert first.ephemeral_secret and second.ephemeral_secret
    token = first.issue(HASH, NOW)
    assert first.verify(token, NOW) == HASH
    assert second.verify(token, NOW) is None  # another process, another random secret
    assert not SessionSigner("rahasia", timedelta(hours=1)).ephemeral_secret
