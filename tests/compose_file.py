"""docker-compose.yml as the tests read it (no Docker engine here): the parsed file, a service's
environment and command, compose's `${...}` interpolation, and the Kafka container's start script.
Used by tests/unit/deploy (the file's shape) and tests/integration/compose_kafka (its Kafka path run
on the tested jars)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from lindung_cli.kafka_broker import KAFKA_DIR

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
START_SCRIPT = KAFKA_DIR / "start.sh"

INTERPOLATION = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def load_compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment must be a mapping (merge keys need it)"
    return env


def interpolate(value: str, env: dict[str, str] | None = None) -> str:
    """Compose's `${X:-default}` / `${X:?error}` / `$$`, every X unset unless given in `env`."""

    def one(match: re.Match[str]) -> str:
        if env and match["name"] in env:
            return env[match["name"]]
        op, arg = match["op"], match["arg"]
        if op and op.endswith("-"):
            return str(arg)
        if op and op.endswith("?"):
            return "required-in-test"
        return ""

    return INTERPOLATION.sub(one, value.replace("$$", "\0")).replace("\0", "$")


def interpolated_environment(service: dict[str, Any], chosen: dict[str, str]) -> dict[str, str]:
    """A service's environment as compose passes it when .env holds `chosen`."""
    return {var: interpolate(str(value), chosen) for var, value in environment(service).items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service.get("command")
    return cmd.split() if isinstance(cmd, str) else list(cmd or [])


def start_sh(env: dict[str, str], timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    """infra/kafka/start.sh run to its end with `env` (and PATH) only."""
    bash = shutil.which("bash")
    assert bash, "bash runs the compose Kafka container's start script"
    return subprocess.run(
        [bash, str(START_SCRIPT)],
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
    )
