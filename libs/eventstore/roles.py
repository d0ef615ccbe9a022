"""Database roles: the owner migrates, each service writes its own schema, the auditor reads.

- the owner (whoever runs the migrations: LINDUNG_DATABASE_OWNER_URL) owns every table; only it
  can ALTER, DROP, or switch the append-only triggers off;
- `<prefix><service>` may SELECT and INSERT on its `events` table, nothing more there, and
  SELECT/INSERT/UPDATE/DELETE on the other tables of its schema (read models, outbox `sent_at`,
  inbox, dead letters); it cannot TRUNCATE (not granted, and the trigger refuses it anyway);
- `<prefix>auditor` may SELECT on every service schema, nothing else.

Grants name the tables present when they run, so `lindung db roles` (or `lindung up`, or a test)
runs them after every migration. They are idempotent; a run also sets fresh passwords.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.privacy.vault import SCHEMA as PRIVACY_SCHEMA

AUDITOR = "auditor"
# Everything a service role does on the tables of its schema other than `events`.
SERVICE_TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
EVENTS_PRIVILEGES = "SELECT, INSERT"


@dataclass(frozen=True)
class RoleLogin:
    """One login role and its (fresh) password."""

    role: str
    password: str


def role_name(prefix: str, who: str) -> str:
    """`<prefix><service>` or `<prefix>auditor`, checked to be a plain SQL identifier."""
    name = f"{prefix}{who}"
    if not name.replace("_", "").isalnum() or not name[0].isalpha() or name != name.lower():
        raise ValueError(f"role name {name!r}: lower-case letters, digits and _ only")
    return name


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def login_statements(login: RoleLogin) -> list[str]:
    """Create the role when missing; make it a plain login (no superuser, no role or database
    creation, no bypass of row security) with the given password."""
    return [
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {_literal(login.role)}) "
        f'THEN CREATE ROLE "{login.role}"; END IF; END $$',
        f'ALTER ROLE "{login.role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS '
        f"PASSWORD {_literal(login.password)}",
    ]


def service_grants(role: str, schema: str) -> list[str]:
    """A service role on its own schema: INSERT/SELECT on events, read-write elsewhere."""
    at = f'"{schema}"'
    return [
        f'GRANT USAGE ON SCHEMA {at} TO "{role}"',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA {at} FROM "{role}"',
        f'GRANT {SERVICE_TABLE_PRIVILEGES} ON ALL TABLES IN SCHEMA {at} TO "{role}"',
        # The event store is append-only for the service: no UPDATE, DELETE or TRUNCATE.
        f'REVOKE ALL ON {at}.events FROM "{role}"',
        f'GRANT {EVENTS_PRIVILEGES} ON {at}.events TO "{role}"',
        f'REVOKE ALL ON {at}.alembic_version FROM "{role}"',
        f'GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {at} TO "{role}"',
    ]


# The key vault (libs/privacy/vault.py): every service reads keys and adds new ones; only the
# registry, which forgets people (`lindung privacy forget`), may delete a key and write the
# tombstone. Nobody may UPDATE a key.
FORGETTING_SERVICE = "registry"


def privacy_grants(role: str, who: str) -> list[str]:
    """A role on the key vault: see above; the auditor only reads."""
    at = f'"{PRIVACY_SCHEMA}"'
    found = [
        f'GRANT USAGE ON SCHEMA {at} TO "{role}"',
        f'REVOKE ALL ON ALL TABLES IN SCHEMA {at} FROM "{role}"',
        f'GRANT SELECT ON {at}.data_keys, {at}.forgotten TO "{role}"',
    ]
    if who != AUDITOR:
        found.append(f'GRANT INSERT ON {at}.data_keys TO "{role}"')
    if who == FORGETTING_SERVICE:
        found += [
            f'GRANT DELETE ON {at}.data_keys TO "{role}"',
            f'GRANT INSERT ON {at}.forgotten TO "{role}"',
        ]
    return found


def auditor_grants(role: str, schemas: Iterable[str]) -> list[str]:
    """The auditor reads every schema and writes nothing."""
    found: list[str] = []
    for schema in schemas:
        at = f'"{schema}"'
        found += [
            f'GRANT USAGE ON SCHEMA {at} TO "{role}"',
            f'REVOKE ALL ON ALL TABLES IN SCHEMA {at} FROM "{role}"',
            f'GRANT SELECT ON ALL TABLES IN SCHEMA {at} TO "{role}"',
        ]
    return found


def new_logins(
    prefix: str, services: Iterable[str], passwords: Mapping[str, str] | None = None
) -> dict[str, RoleLogin]:
    """A login per service, and one for the auditor (key `auditor`): with the given passwords
    (a deployment's secrets), else random ones."""
    return {
        who: RoleLogin(role_name(prefix, who), (passwords or {}).get(who) or secrets.token_urlsafe(24))
        for who in (*services, AUDITOR)
    }


async def apply_roles(conn: AsyncConnection, logins: Mapping[str, RoleLogin]) -> None:
    """Create/refresh the logins and grant each its privileges, as the schemas' owner (who also
    needs CREATEROLE). Two processes doing this at once are serialised (role names are global)."""
    await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('lindung-db-roles'))"))
    schemas = [who for who in logins if who != AUDITOR]
    found = await conn.execute(text(f"SELECT to_regclass('{PRIVACY_SCHEMA}.data_keys') IS NOT NULL"))
    vault_present = bool(found.scalar_one())
    for who, login in logins.items():
        for statement in login_statements(login):
            await conn.execute(text(statement))
        grants = auditor_grants(login.role, schemas) if who == AUDITOR else service_grants(login.role, who)
        if vault_present:
            grants += privacy_grants(login.role, who)
        for statement in grants:
            await conn.execute(text(statement))


def login_url(owner_url: str, login: RoleLogin) -> str:
    """`owner_url` with the login's user and password (same host, port and database)."""
    from sqlalchemy.engine import make_url

    url = make_url(owner_url).set(username=login.role, password=login.password)
    return url.render_as_string(hide_password=False)


async def create_logins(
    owner_url: str, prefix: str, services: Iterable[str], passwords: Mapping[str, str] | None = None
) -> dict[str, RoleLogin]:
    """Passwords (given, else new) for every service role and the auditor, applied as the owner."""
    from libs.db import make_engine

    logins = new_logins(prefix, services, passwords)
    engine = make_engine(owner_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await apply_roles(conn, logins)
    finally:
        await engine.dispose()
    return logins
