"""Access rules of the services' HTTP routes: who may call a route, which regency they reach.

A service's routes are declared once, at import, in a module-level router; the key ring is read
when the service is defined. `protect` joins the two: it includes the router behind a dependency
that hands each request the service's Authenticator, and the routes ask for their caller with

    Reader = Annotated[Principal, Depends(caller(*READERS))]

The matrix (DESIGN.md §7, docs/security.md): a province admin does everything; a regency officer
reads and writes their own regency only; BPJS pushes results and claims; an auditor reads
everything and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Depends, Request

from libs.auth.dependencies import Authenticator, ensure_regency_visible, forbidden
from libs.auth.keys import Principal, Role

# Who reads the programme's data (an officer only their own regency's), who changes it.
READERS = (Role.PROVINCE_ADMIN, Role.REGENCY_OFFICER, Role.AUDITOR)
WRITERS = (Role.PROVINCE_ADMIN, Role.REGENCY_OFFICER)
ADMINS = (Role.PROVINCE_ADMIN,)
EVERYONE = tuple(Role)


def protect(router: APIRouter, auth: Authenticator) -> APIRouter:
    """`router`'s routes, answering only the callers `auth` admits (see `caller`)."""

    async def bind(request: Request) -> None:
        request.state.authenticator = auth

    # A router's own dependencies run before those of its routes: `caller` finds `auth` bound.
    protected = APIRouter(dependencies=[Depends(bind)])
    protected.include_router(router)
    return protected


def caller(*roles: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency: the caller, if their role is one of `roles` (401 / 403 otherwise)."""
    allowed = frozenset(roles)

    async def check(request: Request) -> Principal:
        auth = getattr(request.state, "authenticator", None)
        if not isinstance(auth, Authenticator):
            # A route reached without `protect`: refuse rather than serve it unchecked.
            raise RuntimeError(f"{request.url.path} is not behind libs.auth.access.protect")
        return auth.admit(request, allowed)

    return check


def listing_regency(principal: Principal, regency: str | None) -> str | None:
    """The regency a listing is restricted to: the one asked for, if the caller may see it; with
    none asked for, every regency (None) for province-wide roles, the officer's own for an officer."""
    if regency:
        ensure_regency_visible(principal, regency)
        return regency
    if principal.province_wide:
        return None
    if principal.regency is None:
        # None would mean "every regency": a role bound to no regency (BPJS) lists none.
        raise forbidden("Akun ini tidak terikat pada kabupaten/kota mana pun.")
    return principal.regency


def ensure_regency_writable(principal: Principal, regency_code: str | None) -> None:
    """Raise 403 unless `principal` may change what belongs to `regency_code`."""
    if not principal.may_act_for_regency(regency_code):
        raise forbidden(f"Akun ini hanya dapat mengubah data kabupaten/kota {principal.regency}.")


def actor(principal: Principal, officer: str | None, default: str) -> str:
    """Who acts, for the history: the key's holder, and the person at the desk if they said so.

    Without keys (development) nobody proved anything: the header, or `default`.
    """
    if not principal.authenticated:
        return officer or default
    return f"{principal.name} ({officer})" if officer else principal.name


def announcement(auth: Authenticator, logger: logging.Logger) -> Callable[[object], Awaitable[None]]:
    """A service's background start-up step that logs how `auth` identifies callers."""

    async def announce(_: object) -> None:
        auth.log_mode(logger)

    return announce
