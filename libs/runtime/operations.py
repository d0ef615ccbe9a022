"""The routes every service answers besides its own: health, readiness and counts
(/health, /ready, /stats), and the answer to a request that meets a database outage (503)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from libs.messaging.outage import is_outage
from libs.runtime.definition import runtime_of

log = logging.getLogger(__name__)


def add_operational_routes(app: FastAPI) -> None:
    """/health, /ready and /stats of the service `app` serves."""

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/ready", tags=["operations"])
    async def ready(request: Request) -> JSONResponse:
        """Readiness: the database answers and the consumer holds its partitions."""
        rt = runtime_of(request)
        checks: dict[str, Any] = {}
        try:
            async with rt.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"down: {type(exc).__name__}"
        if rt.broker is not None:
            partitions = rt.assigned_partitions()
            checks["partitions"] = partitions
            checks["consumer"] = "ok" if partitions > 0 else "joining"
        ok = checks["database"] == "ok" and checks.get("consumer", "ok") == "ok"
        return JSONResponse({"ready": ok, **checks}, status_code=200 if ok else 503)

    @app.get("/stats", tags=["operations"])
    async def stats(request: Request) -> dict[str, Any]:
        """Event counts, inbox, outbox and dead letters of this service."""
        rt = runtime_of(request)
        t = rt.definition.tables
        async with rt.engine.connect() as conn:
            counts = {
                name: int((await conn.execute(select(func.count()).select_from(table))).scalar_one())
                for name, table in (
                    ("events", t.events),
                    ("inbox", t.inbox),
                    ("dead_letters", t.dead_letters),
                )
            }
        counts["outbox_unsent"] = await rt.relay.unsent()
        counts["published"] = rt.relay.published
        if rt.relay.is_leader and rt.relay.cursor is not None:  # the id of the last row it sent
            counts["relay_position"] = rt.relay.cursor.position
        if rt.consumer is not None:
            counts["applied"] = rt.consumer.applied
            counts["duplicates"] = rt.consumer.duplicates
            counts["parked"] = rt.consumer.parked
        return {"service": rt.definition.name, **counts}


def add_outage_handler(app: FastAPI) -> None:
    """503 (Retry-After) for a request that meets a database outage; 422 for a value PostgreSQL
    cannot take."""

    # A request that meets a database restart (or a connection it broke) is not the caller's
    # fault and not a bug: 503 with Retry-After, as for any outage.
    async def database_unavailable(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, DBAPIError) and str(getattr(exc.orig, "sqlstate", "")).startswith("22"):
            # SQLSTATE class 22 (data exception): a value of the request PostgreSQL cannot take,
            # e.g. a NUL character in a text or an integer beyond 64 bits. The caller's fault.
            return JSONResponse(
                {
                    "code": "REQUEST_VALUE_INVALID",
                    "message": "Permintaan berisi nilai yang tidak dapat diproses (misalnya karakter "
                    "NUL atau angka yang terlalu besar); periksa kembali isian Anda.",
                },
                status_code=422,
            )
        if not is_outage(exc):
            raise exc
        path = request.url.path
        log.warning("database unavailable during %s %s: %s", request.method, path, type(exc).__name__)
        return JSONResponse(
            {
                "code": "DATABASE_UNAVAILABLE",
                "message": "Basis data sedang tidak dapat dihubungi; silakan coba lagi sebentar lagi.",
            },
            status_code=503,
            headers={"Retry-After": "5"},
        )

    for kind in (DBAPIError, OSError):
        app.add_exception_handler(kind, database_unavailable)
