"""How `lindung` commands call the services' HTTP APIs: one client that sends the operator's key.

Outside development mode every service asks for `Authorization: Bearer <key>` (libs/auth): the
CLI sends the key in LINDUNG_API_KEY when it is set. A 401 or 403 answer ends the command the same
way everywhere: the service's Indonesian message, exit code 2.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from rich.console import Console
from rich.markup import escape

API_KEY_VARIABLE = "LINDUNG_API_KEY"
ACCESS_REFUSED_EXIT = 2

_errors = Console(stderr=True)


def bearer(api_key: str | None) -> dict[str, str]:
    """The header that proves who calls, for `api_key` (none without a key)."""
    key = (api_key or "").strip()
    return {"Authorization": f"Bearer {key}"} if key else {}


def key_headers() -> dict[str, str]:
    """The operator's key (LINDUNG_API_KEY) as a header, or nothing when it is unset."""
    return bearer(os.environ.get(API_KEY_VARIABLE))


def refusal_text(answer: httpx.Response) -> str:
    """What a 401/403 answer says: `CODE: message` from `{"detail": {...}}`, else its text."""
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = None
    if isinstance(detail, dict) and detail.get("message"):
        return f"{detail.get('code', answer.status_code)}: {detail['message']}"
    return f"HTTP {answer.status_code}: {answer.text[:300]}"


def _stop_when_refused(answer: httpx.Response) -> None:
    if answer.status_code not in (401, 403):
        return
    answer.read()
    said = escape(refusal_text(answer))
    _errors.print(f"[red]Akses ditolak[/] ({answer.status_code}) {said}", highlight=False, soft_wrap=True)
    if answer.status_code == 401 and not key_headers():
        _errors.print(f"Setel {API_KEY_VARIABLE} dengan kunci API Anda.", highlight=False, soft_wrap=True)
    # SystemExit, not typer.Exit: a command's `except RuntimeError` (typer.Exit is one) must not
    # turn a refusal into its own failure message.
    raise SystemExit(ACCESS_REFUSED_EXIT)


def client(**kwargs: Any) -> httpx.Client:
    """An httpx.Client sending the operator's key; a 401/403 answer prints and exits 2."""
    headers = {**key_headers(), **(kwargs.pop("headers", None) or {})}
    return httpx.Client(headers=headers, event_hooks={"response": [_stop_when_refused]}, **kwargs)


def request(method: str, url: str, *, timeout: Any = 60.0, **kwargs: Any) -> httpx.Response:
    """One request with `client()`."""
    with client(timeout=timeout) as session:
        return session.request(method, url, **kwargs)
