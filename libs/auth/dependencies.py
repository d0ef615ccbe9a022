"""FastAPI side of libs/auth: the caller's principal as a dependency, role and regency checks.

    auth = Authenticator.from_settings(settings)  # the settings the entrypoint was given
    @router.get("/things")
    async def things(who: Annotated[Principal, Depends(auth.require(Role.PROVINCE_ADMIN))]): ...

A caller proves who they are with `Authorization: Bearer <key>` (programs) or with the session
cookie a login form sets (people). Answers: 401 without a valid key or session, 403 when the role
or the regency does not allow the request. Messages are in Indonesian, codes stable.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from fastapi import HTTPException, Request, Response

from libs.auth.keys import DEVELOPMENT_PRINCIPAL, KeyConfigError, KeyRing, Principal, Role, hash_key
from libs.auth.sessions import SessionSigner
from libs.settings import Settings

SESSION_COOKIE = "lindung_session"


def unauthorized() -> HTTPException:
    return HTTPException(
        401,
        {"code": "AUTH_REQUIRED", "message": "Masuk dengan kunci API yang sah untuk membuka data ini."},
        headers={"WWW-Authenticate": "Bearer"},
    )


def forbidden(message: str) -> HTTPException:
    return HTTPException(403, {"code": "FORBIDDEN", "message": message})


def ensure_regency_visible(principal: Principal, regency_code: str) -> None:
    """Raise 403 unless `principal` may see `regency_code`."""
    if not principal.may_see_regency(regency_code):
        raise forbidden(f"Akun ini hanya dapat melihat data kabupaten/kota {principal.regency}.")


class Authenticator:
    """Identifies callers against one key ring; an instance is a FastAPI dependency."""

    def __init__(self, keyring: KeyRing, sessions: SessionSigner, *, required: bool = False) -> None:
        # LINDUNG_AUTH_REQUIRED predates closed-by-default (libs/runtime/production.py refuses a
        # keyless start outside development mode); kept so that it still demands keys, even there.
        if required and keyring.open:
            raise KeyConfigError("LINDUNG_AUTH_REQUIRED is true but LINDUNG_API_KEYS holds no key")
        self.keyring = keyring
        self.sessions = sessions

    @classmethod
    def from_settings(cls, settings: Settings) -> Authenticator:
        """The authenticator configured by LINDUNG_API_KEYS, LINDUNG_SESSION_SECRET and friends."""
        return cls(
            KeyRing.from_json(settings.api_keys),
            SessionSigner(settings.session_secret, timedelta(hours=settings.session_hours)),
            required=settings.auth_required,
        )

    @property
    def open(self) -> bool:
        """Development mode: no keys, every caller is a province admin."""
        return self.keyring.open

    def describe(self) -> str:
        """One line for the start-up log saying how callers are identified."""
        if self.open:
            return (
                "AUTHENTICATION OFF: LINDUNG_API_KEYS is empty, so every caller is province_admin "
                "(development mode only: outside LINDUNG_DEV_MODE=true a service refuses to start "
                "without LINDUNG_API_KEYS)"
            )
        line = f"authentication on: {len(self.keyring)} API key(s) configured"
        if self.sessions.ephemeral_secret:
            line += "; LINDUNG_SESSION_SECRET unset, so browser sessions end when this process stops"
        return line

    def log_mode(self, logger: logging.Logger) -> None:
        """Write `describe()` to `logger` (a warning when authentication is off)."""
        logger.log(logging.WARNING if self.open else logging.INFO, self.describe())

    def identify(self, request: Request) -> Principal | None:
        """The caller of `request`, or None when they proved nothing (or a wrong key)."""
        if self.open:
            return DEVELOPMENT_PRINCIPAL
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, key = header.partition(" ")
            if scheme.lower() != "bearer" or not key.strip():
                return None
            # A wrong bearer key is refused even if a session cookie came along.
            return self.keyring.authenticate(key)
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            key_hash = self.sessions.verify(token)
            if key_hash is not None:
                return self.keyring.by_hash(key_hash)
        return None

    async def __call__(self, request: Request) -> Principal:
        principal = self.identify(request)
        if principal is None:
            raise unauthorized()
        return principal

    def require(self, *roles: Role) -> Callable[[Request], Awaitable[Principal]]:
        """A dependency that admits only callers with one of `roles`."""
        allowed = frozenset(roles)

        async def check(request: Request) -> Principal:
            return self.admit(request, allowed)

        return check

    def admit(self, request: Request, allowed: frozenset[Role]) -> Principal:
        """The caller of `request` if their role is in `allowed`; else 401 (nobody) or 403."""
        principal = self.identify(request)
        if principal is None:
            raise unauthorized()
        if principal.role in allowed:
            return principal
        if principal.role is Role.AUDITOR:
            raise forbidden("Auditor hanya dapat membaca; akun ini tidak dapat mengubah data.")
        names = ", ".join(sorted(r.value for r in allowed))
        raise forbidden(f"Peran {principal.role.value} tidak berhak; yang berhak: {names}.")

    def login(self, raw_key: str) -> str | None:
        """A session token for the holder of `raw_key`, or None for an unknown key."""
        if self.open or self.keyring.authenticate(raw_key) is None:
            return None
        return self.sessions.issue(hash_key(raw_key))

    def set_session(self, response: Response, token: str, *, secure: bool) -> None:
        """Put the session token in an HttpOnly, SameSite=Strict cookie."""
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=int(self.sessions.lifetime.total_seconds()),
            httponly=True,
            samesite="strict",
            secure=secure,
            path="/",
        )

    @staticmethod
    def clear_session(response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path="/")
