"""A byte limit on every request body, enforced before the body is read (ASGI middleware).

A declared `Content-Length` above the limit is answered 413 at once, without reading a byte of
the body; a body without one (chunked) is counted as it streams in and refused the moment it
passes the limit. Either way the route never sees more than the limit, so an upload cannot fill
memory or the spool directory (docs/security.md, "Input limits").
"""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_TOO_LARGE = "BODY_TOO_LARGE"


def too_large_message(limit: int) -> str:
    """The officer-facing message of a refused body (Indonesian)."""
    return (
        f"Isi permintaan melebihi batas {limit:,} bita; "
        "bagi berkas menjadi beberapa unggahan yang lebih kecil."
    ).replace(",", ".")


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The request's Content-Length, None when absent or unreadable (then the stream is counted)."""
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def refusal(limit: int) -> dict[str, object]:
    """The `detail` of a 413: the documented error shape."""
    return {"code": BODY_TOO_LARGE, "message": too_large_message(limit), "limit_bytes": limit}


class BodyTooLarge(HTTPException):
    """Raised inside `receive` when a streamed body passes the limit.

    An HTTPException, so FastAPI's body parsing lets it through as it is (it turns any other
    exception met while reading a form into a 400) and the app answers it as a 413.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=refusal(limit))


class BodyLimit:
    """Refuse request bodies larger than `limit()` bytes with 413 BODY_TOO_LARGE.

    `limit` is read per request, so a service's settings (read in its lifespan) decide it.
    """

    def __init__(self, app: ASGIApp, limit: Callable[[Scope], int]) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = declared_length(scope.get("headers", []))
        if declared is not None and declared > limit:
            await _refuse(send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            # The route was still reading its body, so it has answered nothing yet.
            if not started:
                await _refuse(send, limit)


async def _refuse(send: Send, limit: int) -> None:
    body = json.dumps({"detail": refusal(limit)}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
