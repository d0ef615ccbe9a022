"""Browser sessions: a signed, expiring cookie that names the API key a person logged in with.

The cookie holds the key's hash (public: it is in the configuration), an expiry and an HMAC over
both. It never holds the key. Each request looks the hash up in the key ring again, so removing a
key from the configuration ends its sessions at the next restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

_TOKEN = re.compile(r"^v1\.([0-9a-f]{64})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")


def _now() -> datetime:
    return datetime.now(UTC)


class SessionSigner:
    """Issues and verifies session tokens with one secret."""

    def __init__(self, secret: bytes | str | None, lifetime: timedelta) -> None:
        # No configured secret: a random one, so sessions end when the process does.
        self.ephemeral_secret = not secret
        key = secret or secrets.token_bytes(32)
        self._secret = key.encode() if isinstance(key, str) else key
        self.lifetime = lifetime

    def _sign(self, body: str) -> str:
        mac = hmac.new(self._secret, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def issue(self, key_sha256: str, now: datetime | None = None) -> str:
        """A token for the holder of the key with hash `key_sha256`, valid for `lifetime`."""
        expires = int(((now or _now()) + self.lifetime).timestamp())
        body = f"v1.{key_sha256}.{expires}"
        return f"{body}.{self._sign(body)}"

    def verify(self, token: str, now: datetime | None = None) -> str | None:
        """The key hash of a valid, unexpired token; None for anything else."""
        match = _TOKEN.match(token or "")
        if match is None:
            return None
        key_sha256, expires, signature = match.groups()
        if not hmac.compare_digest(signature, self._sign(f"v1.{key_sha256}.{expires}")):
            return None
        if int(expires) <= int((now or _now()).timestamp()):
            return None
        return key_sha256
