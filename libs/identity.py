"""Pseudonymous worker identifiers.

Kafka keys and most events name a worker by `worker_id`, not by NIK: a NIK is personal data
(UU 27/2022) and its structure (region + birth date + serial) makes a plain hash easy to reverse,
so the id is an HMAC with a secret pepper held in configuration.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid


def worker_id_for(nik: str, pepper: str) -> str:
    """A stable UUID-shaped id for the person with this NIK."""
    digest = hmac.new(pepper.encode(), nik.strip().encode(), hashlib.sha256).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))
