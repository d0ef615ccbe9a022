"""A request that meets a database outage gets 503 with Retry-After; other database errors stay
errors (500), so bugs are not disguised as outages."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import APIRouter
from sqlalchemy import MetaData
from sqlalchemy.exc import IntegrityError, OperationalError

from libs.eventstore.tables import eventstore_tables
from libs.runtime.service import ServiceDefinition, create_app

router = APIRouter()


@router.get("/outage")
async def outage() -> None:
    raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


@router.get("/broken-connection")
async def broken_connection() -> None:
    raise ConnectionResetError("connection reset by peer")


@router.get("/bug")
async def bug() -> None:
    raise IntegrityError("INSERT", {}, Exception("duplicate key"))


def _get(path: str) -> httpx.Response:
    definition = ServiceDefinition("probe", eventstore_tables(MetaData(), "probe"), router)
    transport = httpx.ASGITransport(app=create_app(definition), raise_app_exceptions=False)

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            return await client.get(path)

    return asyncio.run(call())


def test_database_outage_is_503_with_retry_after() -> None:
    for path in ("/outage", "/broken-connection"):
        response = _get(path)
        assert response.status_code == 503
        assert response.headers["retry-after"] == "5"
        assert response.json()["code"] == "DATABASE_UNAVAILABLE"


def test_other_database_errors_are_not_called_outages() -> None:
    assert _get("/bug").status_code == 500
