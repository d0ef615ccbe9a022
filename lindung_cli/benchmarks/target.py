"""Which stack a benchmark measures: its broker, its services' URLs and its processes.

Found in the runtime file a `lindung up` writes (var/runtime.json: URLs and PIDs), or given by
options and environment (then service URLs default to the configured ports and no process is
sampled), or built from a `Stack` the benchmark started itself.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil

from libs.events.signing import DEV_KEYRING, Keyring, Signer, signers_in
from libs.settings import SERVICE_PORTS, Settings
from lindung_cli.api import bearer
from lindung_cli.runtime_file import read_runtime


@dataclass(frozen=True)
class Target:
    bootstrap: str
    urls: dict[str, str]  # label ("registry", "enrollment#2") -> base URL
    pids: dict[str, int] = field(default_factory=dict)  # label (also the broker's, "postgres") -> PID
    api_key: str | None = None
    # The broker's label: "tansu" or "kafka" (embedded), "external" (KAFKA_BOOTSTRAP_SERVERS).
    broker: str = "tansu"
    # The stack's development event keys (`lindung up`): the benchmark signs as each regency.
    keys: str | None = None

    def signers(self) -> dict[str, Signer]:
        """The signer of each producer whose key is in `keys`, by producer (none: unsigned)."""
        if not self.keys:
            return {}
        folder = Path(self.keys)
        return signers_in(folder, Keyring.load(folder / DEV_KEYRING))

    def url(self, service: str) -> str:
        """The first instance of `service`."""
        return self.urls[service].rstrip("/")

    def headers(self) -> dict[str, str]:
        return bearer(self.api_key)

    def instances(self) -> dict[str, int]:
        """Instances per service, e.g. {"registry": 1, "enrollment": 2}."""
        counts: dict[str, int] = {}
        for label in self.urls:
            service = label.split("#")[0]
            counts[service] = counts.get(service, 0) + 1
        return counts


def from_runtime(info: dict[str, Any], api_key: str | None = None) -> Target:
    """The target a runtime file describes."""
    return Target(
        bootstrap=str(info["kafka_bootstrap_servers"]),
        urls={str(k): str(v) for k, v in (info.get("services") or {}).items()},
        pids={str(k): int(v) for k, v in (info.get("pids") or {}).items()},
        api_key=api_key,
        broker=str(info.get("broker") or "tansu"),
        keys=info.get("event_keys"),
    )


def find_target(settings: Settings, bootstrap: str | None, api_key: str | None) -> Target | None:
    """The running `lindung up` of `settings.data_dir`, else the configured broker and ports."""
    running = read_runtime(settings.data_dir)
    if running and not bootstrap:
        return from_runtime(running, api_key)
    found = bootstrap or settings.kafka_bootstrap_servers
    if not found:
        return None
    urls = {name: f"http://127.0.0.1:{port + settings.port_offset}" for name, port in SERVICE_PORTS.items()}
    return Target(bootstrap=found, urls=urls, api_key=api_key, broker="external")


def _listening_pids() -> dict[int, int]:
    """port → PID of the process listening on it (TCP, any local address)."""
    found: dict[int, int] = {}
    with contextlib.suppress(psutil.Error):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.pid and conn.laddr:
                found.setdefault(int(conn.laddr.port), int(conn.pid))
    return found


def with_pids(target: Target, data_dir: str) -> Target:
    """The target with the PIDs of its services, broker and PostgreSQL filled in where missing.

    `lindung up` records URLs, not PIDs: the processes are found by the ports they listen on, and
    an embedded PostgreSQL by its postmaster.pid.
    """
    if target.pids:
        return target
    listening = _listening_pids()
    pids: dict[str, int] = {}
    for label, url in target.urls.items():
        port = urlsplit(url).port
        if port and port in listening:
            pids[label] = listening[port]
    broker_port = int(target.bootstrap.split(",")[0].rsplit(":", 1)[-1])
    if broker_port in listening:
        pids[target.broker] = listening[broker_port]
    pid_file = Path(data_dir) / "postgres" / "postmaster.pid"
    with contextlib.suppress(OSError, ValueError, IndexError):
        pids["postgres"] = int(pid_file.read_text().split()[0])
    return replace(target, pids=pids)
