"""Roles and API keys shared by Lindung's HTTP services (DESIGN.md §7).

Keys are configured as SHA-256 hashes in LINDUNG_API_KEYS; callers send the key as a Bearer
token, or log in once in a browser and carry a signed session cookie. See docs/dashboard.md.
"""

from libs.auth.access import (
    ADMINS,
    EVERYONE,
    READERS,
    WRITERS,
    actor,
    announcement,
    caller,
    ensure_regency_writable,
    listing_regency,
    protect,
)
from libs.auth.dependencies import (
    SESSION_COOKIE,
    Authenticator,
    ensure_regency_visible,
    forbidden,
    unauthorized,
)
from libs.auth.keys import (
    DEVELOPMENT_PRINCIPAL,
    PROVINCE_WIDE,
    ApiKey,
    KeyConfigError,
    KeyRing,
    Principal,
    Role,
    hash_key,
)
from libs.auth.sessions import SessionSigner

__all__ = [
    "ADMINS",
    "DEVELOPMENT_PRINCIPAL",
    "EVERYONE",
    "PROVINCE_WIDE",
    "READERS",
    "SESSION_COOKIE",
    "WRITERS",
    "ApiKey",
    "Authenticator",
    "KeyConfigError",
    "KeyRing",
    "Principal",
    "Role",
    "SessionSigner",
    "actor",
    "announcement",
    "caller",
    "ensure_regency_visible",
    "ensure_regency_writable",
    "forbidden",
    "hash_key",
    "listing_regency",
    "protect",
    "unauthorized",
]
