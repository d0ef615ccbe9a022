"""Where a running `lindung up` writes its addresses, so that other commands can find the stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def runtime_path(data_dir: str) -> Path:
    return Path(data_dir) / "runtime.json"


def write_runtime(data_dir: str, info: dict[str, Any]) -> None:
    path = runtime_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2))


def read_runtime(data_dir: str) -> dict[str, Any] | None:
    path = runtime_path(data_dir)
    return json.loads(path.read_text()) if path.exists() else None
