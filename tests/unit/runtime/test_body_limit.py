"""The request body limit: refused from Content-Length before reading, and while streaming."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
from fastapi import FastAPI, File, UploadFile

from libs.runtime.body_limit import BODY_TOO_LARGE, BodyLimit, declared_length

LIMIT = 1000


def app_with_limit() -> FastAPI:
    app = FastAPI()

    @app.post("/json")
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    @app.post("/upload")
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, int]:
        return {"size": len(await file.read())}

    app.add_middleware(BodyLimit, limit=lambda scope: LIMIT)
    return app


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app_with_limit()), base_url="http://t")


def test_declared_length_reads_the_header() -> None:
    assert declared_length([(b"Content-Length", b"12")]) == 12
    assert declared_length([(b"content-length", b"x")]) is None
    assert declared_length([]) is None


async def test_a_body_within_the_limit_is_served() -> None:
    async with client() as http:
        answer = await http.post("/json", json={"a": "b"})
    assert answer.status_code == 200 and answer.json() == {"a": "b"}


async def test_a_declared_gigabyte_is_refused_without_reading_it() -> None:
    pulled = 0

    async def gigabyte() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(1000):
            pulled += 1
            yield b"x" * 1_000_000

    async with client() as http:
        answer = await http.post(
            "/upload",
            content=gigabyte(),
            headers={"Content-Length": "1000000000", "Content-Type": "text/csv"},
        )
    assert answer.status_code == 413
    assert answer.json()["detail"]["code"] == BODY_TOO_LARGE
    assert "batas" in answer.json()["detail"]["message"]
    assert pulled <= 1  # httpx may prime the stream; the service read nothing of it


async def test_a_chunked_body_is_refused_once_it_passes_the_limit() -> None:
    pulled = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal pulled
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        for _ in range(100):
            pulled += 1
            yield b"y" * 300

    async with client() as http:
        answer = await http.post(
            "/upload", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"}
        )
    assert answer.status_code == 413
    assert answer.json()["detail"]["code"] == BODY_TOO_LARGE
    assert pulled < 10  # stopped at the limit, not at the end of the stream


async def test_a_json_body_streamed_past_the_limit_is_refused() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"a": "'
        for _ in range(10):
            yield b"z" * 200
        yield b'"}'

    async with client() as http:
        answer = await http.post("/json", content=chunks(), headers={"Content-Type": "application/json"})
    assert answer.status_code == 413 and answer.json()["detail"]["code"] == BODY_TOO_LARGE
