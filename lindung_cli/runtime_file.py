"""Where a running `lindung up` writes its addresses, so that other commands can find the stack.

The file is read by anyone who can read the data directory: it never holds a password. A database
URL is written without its password (a reader gives it with DATABASE_URL, PGPASSWORD or
~/.pgpass); Kafka credentials are never written (readers use their LINDUNG_KAFKA_* settings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

PASSWORD_LEFT_OUT = "not stored: give it with DATABASE_URL, PGPASSWORD or ~/.pgpass"


def runtime_path(data_dir: str) -> Path:
    return Path(data_dir) / "runtime.json"


def without_password(database_url: str) -> str:
    """`database_url` with its password taken out (the rest unchanged)."""
    url = make_url(database_url)
    if not url.password:
        # No password (the embedded server: a local socket): the URL as it was.
        return database_url
    return url._replace(password=None).render_as_string(hide_password=False)


def write_runtime(data_dir: str, info: dict[str, Any]) -> None:
    """Write `info`, its database URL without the password (said in `database_password`)."""
    public = dict(info)
    database_url = public.get("database_url")
    if database_url:
        public["database_url"] = without_password(database_url)
        if public["database_url"] != database_url:
            public["database_password"] = PASSWORD_LEFT_OUT
    path = runtime_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(public, indent=2))


def read_runtime(data_dir: str) -> dict[str, Any] | None:
    path = runtime_path(data_dir)
    return json.loads(path.read_text()) if path.exists() else None
