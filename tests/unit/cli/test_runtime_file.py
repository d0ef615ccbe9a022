"""var/runtime.json tells other commands where the stack is, and holds no password."""

from __future__ import annotations

from pathlib import Path

from lindung_cli.runtime_file import PASSWORD_LEFT_OUT, read_runtime, write_runtime

EMBEDDED = "postgresql://postgres:@/postgres?host=/tmp/lindung-pg"


def test_a_database_password_is_left_out(tmp_path: Path) -> None:
    write_runtime(
        str(tmp_path),
        {
            "database_url": "postgresql+asyncpg://lindung:s3cret-pw@db.example:5432/lindung",
            "kafka_bootstrap_servers": "kafka:9092",
            "services": {"registry": "http://127.0.0.1:8101"},
        },
    )
    assert "s3cret-pw" not in (tmp_path / "runtime.json").read_text()
    running = read_runtime(str(tmp_path))
    assert running is not None
    assert running["database_url"] == "postgresql+asyncpg://lindung@db.example:5432/lindung"
    assert running["database_password"] == PASSWORD_LEFT_OUT
    assert running["services"] == {"registry": "http://127.0.0.1:8101"}


def test_the_embedded_servers_url_is_kept_as_it_is(tmp_path: Path) -> None:
    write_runtime(str(tmp_path), {"database_url": EMBEDDED, "kafka_bootstrap_servers": "127.0.0.1:19092"})
    running = read_runtime(str(tmp_path))
    assert running == {"database_url": EMBEDDED, "kafka_bootstrap_servers": "127.0.0.1:19092"}


def test_no_stack_no_file(tmp_path: Path) -> None:
    assert read_runtime(str(tmp_path / "nothing")) is None
