"""Running each service's Alembic migrations (schemas `registry`, `allocation`, ...)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config

from libs.privacy.vault import SCHEMA as PRIVACY_SCHEMA
from libs.service_names import SERVICES

__all__ = [
    "PRIVACY_SCHEMA",
    "SERVICES_WITH_SCHEMAS",
    "alembic_config",
    "migrations_dir",
    "upgrade",
    "upgrade_all",
]

# Every service keeps its own schema (libs/service_names.py lists them, in start order).
SERVICES_WITH_SCHEMAS = SERVICES


def migrations_dir(service: str) -> Path:
    """Where `service` keeps its Alembic scripts."""
    if service == PRIVACY_SCHEMA:  # the key vault's scripts live with it, not in a service
        return Path(str(resources.files("libs.privacy") / "migrations"))
    return Path(str(resources.files(f"services.{service}.adapters") / "migrations"))


def alembic_config(service: str, database_url: str) -> Config:
    """An Alembic config for `service` without an ini file."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir(service)))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(service: str, database_url: str) -> None:
    """Bring `service`'s schema to the newest revision (blocking: call via a thread from async)."""
    command.upgrade(alembic_config(service, database_url), "head")


def upgrade_all(database_url: str, services: tuple[str, ...] = SERVICES_WITH_SCHEMAS) -> None:
    """Migrate the key vault's schema and every service schema."""
    upgrade(PRIVACY_SCHEMA, database_url)
    for service in services:
        upgrade(service, database_url)
