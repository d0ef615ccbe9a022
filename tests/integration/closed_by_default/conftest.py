"""Services started as `python -m services.<name>` (as docker compose and `lindung up` start
them) outside development mode, with and without what production needs, on the package's own
broker and a fresh database.

The closed stack (registry and allocation, every setting of the production checklist: API keys,
a pepper of its own, signing keys and their keyring) runs once for the module; the tests that
start a service of their own use another consumer group (claims, the dashboard, the simulator) or
stop before consuming (a refused start), so no process takes the closed stack's partitions.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from libs.auth import hash_key
from libs.events import topics
from libs.events.signing import dev_key_id, dev_keys, key_file
from libs.messaging.kafka import ensure_topics
from lindung_cli.embedded import free_port
from tests.conftest import (
    TEST_ENV,
    package_infra,  # noqa: F401  (`infra`: a broker of this package's own)
)
from tests.infra import Infra
from tests.integration.faults.cluster import ServiceProcess
from tests.running import eventually, process_env
from tests.support.stack import fresh_database

SAMOSIR = "12.17"
KEYS = {role: secrets.token_urlsafe(32) for role in ("admin", "officer", "bpjs")}
OFFICER_NAME = "Petugas Disnaker Samosir"
API_KEYS = json.dumps(
    [
        {"key_sha256": hash_key(KEYS["admin"]), "role": "province_admin", "name": "Admin Disnaker Provinsi"},
        {
            "key_sha256": hash_key(KEYS["officer"]),
            "role": "regency_officer",
            "regency": SAMOSIR,
            "name": OFFICER_NAME,
        },
        {"key_sha256": hash_key(KEYS["bpjs"]), "role": "bpjs", "name": "BPJS Ketenagakerjaan"},
    ]
)
PRODUCERS = ("registry", "allocation", "claims", "dashboard", "bpjs_simulator")


def bearer(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[role]}"}


@dataclass
class Place:
    """Where the package's processes run: servers, a data directory, the event keys."""

    database_url: str
    bootstrap: str
    root: Path
    keyring: Path

    def bare_env(self) -> dict[str, str]:
        """The session's environment with no Lindung setting at all, pointed at the servers."""
        env = {k: v for k, v in process_env().items() if not k.startswith("LINDUNG_")}
        # The suite's quick timings and calendar, not its development choices: no dev mode, and
        # BPJS's topics speak for `bpjs` alone (the default), as in production.
        quick = {k: v for k, v in TEST_ENV.items() if k not in ("LINDUNG_DEV_MODE", "LINDUNG_BPJS_PRODUCERS")}
        return {
            **env,
            **quick,
            "DATABASE_URL": self.database_url,
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "LINDUNG_DATA_DIR": str(self.root / "var"),
            "LINDUNG_TOPIC_PARTITIONS": "2",
            "PYTHONUNBUFFERED": "1",
        }

    def closed_env(self, service: str) -> dict[str, str]:
        """Every setting of the production checklist, development mode off."""
        return {
            **self.bare_env(),
            "LINDUNG_API_KEYS": API_KEYS,
            "LINDUNG_NIK_PEPPER": secrets.token_hex(32),
            "LINDUNG_SESSION_SECRET": secrets.token_hex(32),
            "LINDUNG_PRIVACY_MASTER_KEY": secrets.token_hex(32),
            "LINDUNG_EVENT_KEYRING_FILE": str(self.keyring),
            "LINDUNG_EVENT_SIGNING_KEY_ID": dev_key_id(service),
            "LINDUNG_EVENT_SIGNING_KEY_FILE": str(key_file(self.keyring.parent, dev_key_id(service))),
        }

    def process(self, service: str, env: dict[str, str], label: str = "") -> ServiceProcess:
        log = self.root / "logs" / f"{label or service}-{uuid.uuid4().hex[:6]}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        return ServiceProcess(service, free_port(), log, env)


@pytest.fixture(scope="package")
async def place(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Place]:
    root = tmp_path_factory.mktemp("closed_by_default")
    async with fresh_database(infra, "lindung_closed") as url:
        await ensure_topics(infra.bootstrap, topics.all_topic_names(), partitions=2)
        keyring = await asyncio.to_thread(dev_keys, root / "keys", PRODUCERS)
        yield Place(url, infra.bootstrap, root, keyring)


async def answering(proc: ServiceProcess, path: str = "/ready", timeout_s: float = 90.0) -> None:
    """Until `path` answers 200; fails at once, with the log, if the process ended."""

    async def up() -> bool:
        assert proc.process is not None
        assert proc.process.poll() is None, f"{proc.service} exited {proc.process.returncode}:\n{proc.tail()}"
        try:
            async with httpx.AsyncClient(timeout=2.0) as client:
                return (await client.get(f"{proc.url}{path}")).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(up, timeout_s=timeout_s, interval_s=0.2)


def exit_code(proc: ServiceProcess, timeout_s: float = 60.0) -> int:
    """The code a process that should stop by itself exits with."""
    assert proc.process is not None
    try:
        return proc.process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"{proc.service} kept running:\n{proc.tail()}") from None
    finally:
        proc.close_log()


@pytest.fixture
def started() -> Iterator[list[ServiceProcess]]:
    """Processes a test starts; stopped (SIGTERM) when it ends."""
    procs: list[ServiceProcess] = []
    yield procs
    for proc in procs:
        proc.stop()
        proc.close_log()


@dataclass
class ClosedStack:
    registry: ServiceProcess
    allocation: ServiceProcess
    place: Place


@pytest.fixture(scope="package")
async def closed_stack(place: Place) -> AsyncIterator[ClosedStack]:
    procs = {s: place.process(s, place.closed_env(s)) for s in ("allocation", "registry")}
    try:
        for proc in procs.values():
            proc.start()
        await asyncio.gather(*(answering(p) for p in procs.values()))
        yield ClosedStack(procs["registry"], procs["allocation"], place)
    finally:
        for proc in procs.values():
            proc.stop()
            proc.close_log()
