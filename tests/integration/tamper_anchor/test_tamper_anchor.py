"""Tamper evidence with an anchor outside the database (docs/security.md, "Tamper evidence").

One stack: allocation and the registry, each connected as its own database role (created by
tests/infra.py `service_role_urls` after the owner's migrations) and holding its own signing
key; they checkpoint their stores every second to a directory and to
lindung.audit.checkpoints.v1. A programme goes in over HTTP; allocation stores it, the registry
consumes it. Then, as a person would:

- the services' roles only append to their events (no UPDATE, DELETE, TRUNCATE, ALTER, DROP);
  the auditor's role only reads;
- TRUNCATE is refused to everyone, the owner too, until the owner switches the trigger off;
- `lindung audit checkpoint` and `lindung audit verify` (as the auditor) pass on the untouched
  store; a checkpoint line with a forged signature is reported;
- the owner rewrites the programme's stream consistently (payload, every hash after it, the
  outbox copy, the registry's inbox copy): the chains alone verify, yet `lindung audit verify`
  names the stream as changed after a checkpoint and exits 1.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.audit.chain import verify_chains
from libs.audit.checkpoint import open_signed, parse_line, reconstruct
from libs.db import make_engine
from libs.events import topics
from libs.events.signing import Keyring, Signer, keyring_json
from libs.eventstore.hashing import GENESIS_HASH, chain_hash
from libs.eventstore.store import row_to_envelope
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS
from libs.runtime.service import create_app
from libs.settings import get_settings
from lindung_cli.demo import demo_programme_path
from services.allocation.entrypoints.app import definition as allocation_definition
from services.registry.entrypoints.app import definition as registry_definition
from tests.infra import Infra, drop_roles, service_role_urls
from tests.integration.audit.support import lindung
from tests.running import eventually, read_matching, running, use_env
from tests.support.stack import fresh_database, kept_env

pytestmark = pytest.mark.integration

RUNNING = ("allocation", "registry")


@dataclass
class Stack:
    owner: AsyncEngine
    roles: dict[str, str]
    bootstrap: str
    checkpoints: Path
    keyring: Path
    auditor_key: Path
    work: Path
    allocation: httpx.AsyncClient

    async def programme_stream(self) -> str:
        async with self.owner.connect() as conn:
            query = "SELECT aggregate_id FROM allocation.events WHERE event_type = 'ProgrammeDefined'"
            return str((await conn.execute(text(query))).scalar_one())


@pytest.fixture(scope="module")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    work = tmp_path_factory.mktemp("tamper")
    roles: dict[str, str] = {}
    try:
        with kept_env():
            async with fresh_database(infra, "lindung_tamper") as owner_url:
                owner = make_engine(owner_url)
                try:
                    roles = await service_role_urls(owner_url, SERVICES_WITH_SCHEMAS)
                    await ensure_topics(infra.bootstrap, topics.all_topic_names(), partitions=2)
                    signers = {service: Signer.generate(f"{service}-tamper") for service in RUNNING}
                    auditor = Signer.generate("auditor-tamper")
                    for signer in (*signers.values(), auditor):
                        signer.write_private(work / f"{signer.key_id}.pem")
                    keyring = work / "keyring.json"
                    trusted = [signers[s].trusted(s) for s in RUNNING] + [auditor.trusted("auditor")]
                    keyring.write_text(keyring_json(trusted))
                    checkpoints = work / "checkpoints"
                    # The process's own DATABASE_URL is the auditor's: what the CLI reads with.
                    use_env(
                        roles["auditor"],
                        infra.bootstrap,
                        LINDUNG_AUDIT_DATABASE_URL=roles["auditor"],
                        LINDUNG_EVENT_KEYRING_FILE=str(keyring),
                        LINDUNG_AUDIT_CHECKPOINT_DIR=str(checkpoints),
                        LINDUNG_AUDIT_CHECKPOINT_INTERVAL_S="1",
                    )
                    async with AsyncExitStack() as started:
                        for service, definition in (
                            ("allocation", allocation_definition),
                            ("registry", registry_definition),
                        ):
                            own = {
                                "DATABASE_URL": roles[service],
                                "LINDUNG_EVENT_SIGNING_KEY_FILE": str(
                                    work / f"{signers[service].key_id}.pem"
                                ),
                                "LINDUNG_EVENT_SIGNING_KEY_ID": signers[service].key_id,
                            }
                            rt = await started.enter_async_context(running(definition(), env=own))
                            if service == "allocation":
                                app = create_app(rt.definition)
                                app.state.runtime = rt
                                http = await started.enter_async_context(
                                    httpx.AsyncClient(
                                        transport=httpx.ASGITransport(app=app), base_url="http://allocation"
                                    )
                                )
                        answer = await http.post(
                            "/programmes",
                            content=demo_programme_path().read_bytes(),
                            headers={"content-type": "application/yaml"},
                        )
                        assert answer.status_code == 201, answer.text
                        yield Stack(
                            owner,
                            roles,
                            infra.bootstrap,
                            checkpoints,
                            keyring,
                            work / "auditor-tamper.pem",
                            work,
                            http,
                        )
                finally:
                    await owner.dispose()
    finally:
        # The roles after the database they were granted in.
        await drop_roles(infra.server_url, roles)


async def _count(engine: AsyncEngine, query: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(query))).scalar_one())


async def _refused(url: str, statement: str) -> str:
    """The database's refusal of `statement` run as the role of `url` (fails if it ran)."""
    engine = make_engine(url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    except DBAPIError as exc:
        return str(exc.orig)
    finally:
        await engine.dispose()
    raise AssertionError(f"{statement!r} ran as {make_url(url).username}")


async def test_the_services_append_and_publish_as_their_own_roles(stack: Stack) -> None:
    # Everything below was done by the services connected as their roles: allocation stored and
    # published (its relay marks the outbox sent), the registry consumed into its inbox.
    assert await _count(stack.owner, "SELECT count(*) FROM allocation.events") > 0

    async def published() -> bool:
        unsent = await _count(stack.owner, "SELECT count(*) FROM allocation.outbox WHERE sent_at IS NULL")
        consumed = await _count(
            stack.owner, "SELECT count(*) FROM registry.inbox WHERE envelope->>'producer' = 'allocation'"
        )
        return unsent == 0 and consumed > 0

    await eventually(published)
    async with stack.owner.connect() as conn:
        users = (await conn.execute(text("SELECT DISTINCT usename FROM pg_stat_activity"))).scalars().all()
    assert {make_url(stack.roles[s]).username for s in RUNNING} <= set(users)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE allocation.events SET payload = '{}'::jsonb",
        "DELETE FROM allocation.events",
        "TRUNCATE allocation.events",
        "INSERT INTO registry.events (event_id) VALUES (gen_random_uuid())",
    ],
)
async def test_a_service_role_cannot_change_or_remove_events(stack: Stack, statement: str) -> None:
    assert "permission denied" in await _refused(stack.roles["allocation"], statement)


@pytest.mark.parametrize(
    "statement",
    ["ALTER TABLE allocation.events DISABLE TRIGGER events_append_only", "DROP TABLE allocation.events"],
)
async def test_a_service_role_cannot_alter_or_drop_its_store(stack: Stack, statement: str) -> None:
    assert "must be owner" in await _refused(stack.roles["allocation"], statement)


async def test_the_auditor_reads_and_writes_nothing(stack: Stack) -> None:
    engine = make_engine(stack.roles["auditor"], pool_size=1)
    try:
        assert await _count(engine, "SELECT count(*) FROM allocation.events") > 0
    finally:
        await engine.dispose()
    refusal = await _refused(stack.roles["auditor"], "UPDATE allocation.outbox SET attempts = attempts + 1")
    assert "permission denied" in refusal


async def test_truncate_is_refused_even_to_the_owner_until_the_trigger_is_switched_off(stack: Stack) -> None:
    owner_url = stack.owner.url.render_as_string(hide_password=False)
    before = await _count(stack.owner, "SELECT count(*) FROM allocation.events")
    assert "append-only (TRUNCATE refused)" in await _refused(owner_url, "TRUNCATE allocation.events")
    assert "append-only (TRUNCATE refused)" in await _refused(owner_url, "TRUNCATE allocation.events CASCADE")
    # Deliberately, as the owner: the statement-level trigger off, in a transaction undone.
    async with stack.owner.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(text("ALTER TABLE allocation.events DISABLE TRIGGER events_no_truncate"))
        await conn.execute(text("TRUNCATE allocation.events"))
        assert (await conn.execute(text("SELECT count(*) FROM allocation.events"))).scalar_one() == 0
        await transaction.rollback()
    assert await _count(stack.owner, "SELECT count(*) FROM allocation.events") == before


async def test_checkpoints_are_signed_in_the_file_and_on_the_topic(stack: Stack) -> None:
    stream = await stack.programme_stream()
    head = await _count(
        stack.owner, f"SELECT max(aggregate_version) FROM allocation.events WHERE aggregate_id = '{stream}'"
    )
    keyring = Keyring.load(stack.keyring)
    path = stack.checkpoints / "allocation.jsonl"

    async def covering() -> bool:
        if not path.exists():
            return False
        opened = [open_signed(parse_line(line), keyring) for line in path.read_text().splitlines()]
        state = reconstruct(opened, opened[-1])
        return state is not None and state.get(stream, (0, ""))[0] == head

    await eventually(covering)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    records = await read_matching(
        stack.bootstrap, topics.AUDIT_CHECKPOINTS, lambda r: r.key == b"allocation", 1
    )
    assert records
    key = keyring.verify(records[0].value, [(k, bytes(v)) for k, v in records[0].headers])
    assert key.producer == "allocation" == json.loads(records[0].value)["producer"]


async def test_an_untouched_store_verifies_against_its_checkpoints(stack: Stack) -> None:
    taken = await lindung(
        "audit", "checkpoint", "--key-file", str(stack.auditor_key), "--key-id", "auditor-tamper"
    )
    assert taken.exit_code == 0, taken.output
    assert (stack.checkpoints / "registry.jsonl").exists() and (stack.checkpoints / "claims.jsonl").exists()
    result = await lindung("audit", "verify")
    assert result.exit_code == 0, result.output
    assert "every chain verifies" in result.output
    assert "every checkpointed head is unchanged" in result.output
    from_topic = await lindung("audit", "verify", "--from-topic")
    assert from_topic.exit_code == 0, from_topic.output
    assert "every checkpointed head is unchanged" in from_topic.output


async def test_a_checkpoint_with_a_forged_signature_is_reported(stack: Stack) -> None:
    forged_dir = stack.work / "forged"
    forged_dir.mkdir()
    line = json.loads((stack.checkpoints / "allocation.jsonl").read_text().splitlines()[-1])
    line["checkpoint"]["root"] = "0" * 64  # a different claim under the old signature
    (forged_dir / "allocation.jsonl").write_text(json.dumps(line) + "\n")
    result = await lindung("audit", "verify", "--checkpoints", str(forged_dir))
    assert result.exit_code == 1, result.output
    assert "CHECKPOINT REFUSED" in result.output and "SIGNATURE_INVALID" in result.output


async def _rewrite(stack: Stack, stream: str) -> None:
    """As the owner with the append-only trigger off: another name in the programme's first event,
    every hash of the stream recomputed, the outbox and the registry's inbox copies to match."""
    async with stack.owner.begin() as conn:
        await conn.execute(text("ALTER TABLE allocation.events DISABLE TRIGGER events_append_only"))
        rows = (
            await conn.execute(
                text("SELECT * FROM allocation.events WHERE aggregate_id = :s ORDER BY aggregate_version"),
                {"s": stream},
            )
        ).all()
        prev = GENESIS_HASH
        for number, row in enumerate(rows):
            payload: dict[str, Any] = dict(row.payload)
            if number == 0:
                payload["name"] = "Program yang ditulis ulang"
            envelope = row_to_envelope(row).model_copy(update={"payload": payload})
            digest = chain_hash(prev, envelope)
            await conn.execute(
                text(
                    "UPDATE allocation.events SET payload = CAST(:p AS jsonb), prev_hash = :prev, hash = :h "
                    "WHERE position = :pos"
                ),
                {"p": json.dumps(payload), "prev": prev, "h": digest, "pos": row.position},
            )
            await conn.execute(
                text("UPDATE allocation.outbox SET value = :v WHERE event_id = :e"),
                {"v": envelope.to_bytes(), "e": row.event_id},
            )
            await conn.execute(
                text("UPDATE registry.inbox SET envelope = CAST(:v AS jsonb) WHERE event_id = :e"),
                {"v": envelope.model_dump_json(), "e": row.event_id},
            )
            prev = digest
        await conn.execute(text("ALTER TABLE allocation.events ENABLE TRIGGER events_append_only"))


async def test_a_consistent_rewrite_by_the_owner_is_named_against_the_checkpoints(stack: Stack) -> None:
    stream = await stack.programme_stream()
    checkpointed = (stack.checkpoints / "allocation.jsonl").read_text()
    assert stream in checkpointed
    await _rewrite(stack, stream)
    async with stack.owner.connect() as conn:
        chains = await verify_chains(conn)
    assert chains.ok, [b.describe() for b in chains.breaks]  # the chain alone sees nothing
    result = await lindung("audit", "verify")
    assert result.exit_code == 1, result.output
    assert "every chain verifies" in result.output
    assert f"changed after a checkpoint in allocation: {stream}" in result.output
    assert "history rewritten" in result.output
    # Only that stream: the registry's store and allocation's other streams are as checkpointed.
    changed = [line for line in result.output.splitlines() if line.startswith("CHANGED")]
    assert changed and all(f"allocation stream '{stream}'" in line for line in changed), changed
    # The topic's copies tell the same, for an auditor who reads them rather than the files.
    from_topic = await lindung("audit", "verify", "--from-topic")
    assert from_topic.exit_code == 1, from_topic.output
    assert f"changed after a checkpoint in allocation: {stream}" in from_topic.output
    assert "CHECKPOINT REFUSED" not in from_topic.output


async def test_lindung_db_roles_makes_the_logins_and_writes_their_urls_0600(
    stack: Stack, infra: Infra, monkeypatch: pytest.MonkeyPatch
) -> None:
    prefix = f"lt_{uuid.uuid4().hex[:6]}_"
    out = stack.work / "db-roles.env"
    monkeypatch.setenv("LINDUNG_DATABASE_OWNER_URL", stack.owner.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LINDUNG_DATABASE_ROLE_PREFIX", prefix)
    get_settings.cache_clear()
    urls: dict[str, str] = {}
    try:
        result = await lindung("db", "roles", "--out", str(out))
        assert result.exit_code == 0, result.output
        assert oct(out.stat().st_mode & 0o777) == "0o600"
        urls = dict(line.split("=", 1) for line in out.read_text().splitlines())
        assert {make_url(u).username for u in urls.values()} == {
            f"{prefix}{who}" for who in (*SERVICES_WITH_SCHEMAS, "auditor")
        }
        claims = urls["CLAIMS_DATABASE_URL"]
        assert "permission denied" in await _refused(claims, "DELETE FROM claims.events")
        assert "permission denied" in await _refused(claims, "SELECT count(*) FROM registry.events")
        engine = make_engine(claims, pool_size=1)
        try:
            await _count(engine, "SELECT count(*) FROM claims.outbox")  # its own tables: allowed
        finally:
            await engine.dispose()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        async with stack.owner.begin() as conn:  # their grants in this database, before the roles
            for url in urls.values():
                await conn.execute(text(f'DROP OWNED BY "{make_url(url).username}"'))
        await drop_roles(infra.server_url, urls)


async def test_lindung_db_roles_takes_a_deployments_passwords_from_the_environment(
    stack: Stack, infra: Infra, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docker-compose hands every service its own URL: the roles get the passwords written there."""
    prefix = f"lt_{uuid.uuid4().hex[:6]}_"
    owner = stack.owner.url.render_as_string(hide_password=False)
    monkeypatch.setenv("LINDUNG_DATABASE_OWNER_URL", owner)
    monkeypatch.setenv("LINDUNG_DATABASE_ROLE_PREFIX", prefix)
    get_settings.cache_clear()
    everyone = (*SERVICES_WITH_SCHEMAS, "auditor")
    passwords = {who: f"pw-{who}-{uuid.uuid4().hex}" for who in everyone}
    urls = {
        who: make_url(owner).set(username=f"{prefix}{who}", password=pw).render_as_string(hide_password=False)
        for who, pw in passwords.items()
    }
    file = stack.work / f"{prefix}passwords.yaml"
    try:
        file.write_text(f"registry: {passwords['registry']}\n")
        missing = await lindung("db", "roles", "--passwords", str(file))
        assert missing.exit_code == 2, missing.output
        assert "no password for allocation" in " ".join(missing.output.split())  # however it wraps
        file.write_text("".join(f"{who}: {pw}\n" for who, pw in passwords.items()))
        result = await lindung("db", "roles", "--passwords", str(file))
        assert result.exit_code == 0, result.output
        assert "db-roles.env" not in result.output  # the deployment holds the passwords already
        assert "permission denied" in await _refused(urls["registry"], "DELETE FROM registry.events")
        engine = make_engine(urls["auditor"], pool_size=1)
        try:
            await _count(engine, "SELECT count(*) FROM claims.events")
        finally:
            await engine.dispose()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        async with stack.owner.begin() as conn:
            made = set((await conn.execute(text("SELECT rolname FROM pg_roles"))).scalars())
            for url in urls.values():
                if make_url(url).username in made:  # a failed run may have made none
                    await conn.execute(text(f'DROP OWNED BY "{make_url(url).username}"'))
        await drop_roles(infra.server_url, urls)
