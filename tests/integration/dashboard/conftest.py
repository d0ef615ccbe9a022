"""One dashboard service for the package: a fresh database, the real consumer on the real topics,
and uvicorn on a free port (a browser needs a real HTTP server). API keys for each role."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.auth import hash_key
from libs.runtime.service import Runtime
from lindung_cli.embedded import free_port
from services.dashboard.entrypoints.app import definition
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra
from tests.support.stack import partial_stack

# Topics outlive a session's databases (and other modules publish on them): unique programme codes.
RUN = uuid.uuid4().hex[:6].upper()

KEYS = {role: secrets.token_urlsafe(24) for role in ("admin", "officer", "auditor", "bpjs")}
OFFICER_REGENCY = "12.17"
API_KEYS = json.dumps(
    [
        {"key_sha256": hash_key(KEYS["admin"]), "role": "province_admin", "name": "Admin Disnaker Provinsi"},
        {
            "key_sha256": hash_key(KEYS["officer"]),
            "role": "regency_officer",
            "regency": OFFICER_REGENCY,
            "name": "Petugas Disnaker Samosir",
        },
        {"key_sha256": hash_key(KEYS["auditor"]), "role": "auditor", "name": "Auditor Inspektorat"},
        {"key_sha256": hash_key(KEYS["bpjs"]), "role": "bpjs", "name": "BPJS Ketenagakerjaan"},
    ]
)


@dataclass
class Dashboard:
    rt: Runtime
    url: str
    bootstrap: str

    @property
    def engine(self) -> AsyncEngine:
        return self.rt.engine

    def client(self, role: str | None) -> httpx.AsyncClient:
        """An HTTP client holding `role`'s key (None: no key at all)."""
        headers = {"Authorization": f"Bearer {KEYS[role]}"} if role else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=30.0)


@pytest.fixture(scope="package")
async def dashboard(infra: Infra) -> AsyncIterator[Dashboard]:
    services = {"dashboard": definition}
    env = {"LINDUNG_API_KEYS": API_KEYS, "LINDUNG_DASHBOARD_POLL_SECONDS": "2"}
    async with partial_stack(infra, services, env=env) as started:
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                started.apps["dashboard"],
                host="127.0.0.1",
                port=port,
                lifespan="off",
                log_config=None,
                access_log=False,
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.02)
        try:
            yield Dashboard(started.runtimes["dashboard"], f"http://127.0.0.1:{port}", infra.bootstrap)
        finally:
            server.should_exit = True
            await serving


CHROMIUM = "/usr/bin/chromium"


def _apt_install() -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Liberation fonts (metric-compatible with Arial) make the screenshot read like the offices' PCs.
    return subprocess.run(
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium", "fonts-liberation"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's Chromium (playwright's own browser download does not work here): installed when
    missing, the test skipped with the reason when it cannot be."""
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        pytest.skip(f"{CHROMIUM} is missing and there is no apt-get to install it")
    result = _apt_install()
    if result.returncode != 0:
        update = subprocess.run(
            ["apt-get", "update"], capture_output=True, text=True, timeout=600, check=False
        )
        if update.returncode != 0:
            pytest.skip(f"cannot install chromium: apt-get update failed: {update.stderr.strip()[-300:]}")
        result = _apt_install()
    if result.returncode != 0 or not Path(CHROMIUM).exists():
        pytest.skip(f"cannot install chromium: {result.stderr.strip()[-300:]}")
    return CHROMIUM
