"""The key vault on real PostgreSQL, migrated like the services' schemas (`upgrade("privacy")`)."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from libs.db import make_engine
from libs.privacy.cipher import FORGOTTEN, MasterKey, open_payload, seal_payload
from libs.privacy.vault import KeyVault
from libs.runtime.migrate import upgrade
from tests.infra import Infra, fresh_database_url

FIELDS = ("nik", "full_name")
PERSON = {"worker_id": "w-1", "nik": "1217054101900001", "full_name": "Rugun Sitanggang"}


async def test_a_forgotten_key_is_gone_with_a_tombstone_and_a_new_nomination_gets_the_next_generation(
    infra: Infra,
) -> None:
    url = await asyncio.to_thread(fresh_database_url, infra)
    await asyncio.to_thread(upgrade, "privacy", url)
    engine = make_engine(url)
    vault = KeyVault(MasterKey.generate())
    try:
        async with engine.begin() as conn:
            keys = await vault.keys_for_writing(conn, ["w-1", "w-2", "w-1"])
            assert sorted(keys) == ["w-1", "w-2"] and keys["w-1"].generation == 1
            # Asked again (another batch, another writer): the same keys, none added.
            again = await vault.keys_for_writing(conn, ["w-1", "w-3"])
            assert again["w-1"] == keys["w-1"] and sorted(again) == ["w-1", "w-3"]
        sealed = seal_payload(PERSON, keys["w-1"], FIELDS)
        async with engine.begin() as conn:
            stored = (
                await conn.execute(text("SELECT wrapped FROM privacy.data_keys WHERE subject='w-1'"))
            ).scalar_one()
            assert keys["w-1"].secret not in bytes(stored)  # only wrapped by the master key
            assert open_payload(sealed, (await vault.keys(conn, ["w-1"]))["w-1"], FIELDS) == PERSON
            tombstone = await vault.forget(conn, "w-1", by="admin-provinsi", reason="permintaan subjek data")
            assert tombstone is not None and (tombstone.generation, tombstone.forgotten_by) == (
                1,
                "admin-provinsi",
            )
            assert await vault.forget(conn, "w-1", by="x", reason="y") is None  # nothing left to destroy
        async with engine.connect() as conn:
            assert await vault.keys(conn, ["w-1", "w-2"]) == {"w-2": keys["w-2"]}
            assert open_payload(sealed, None, FIELDS)["full_name"] == FORGOTTEN
            dump = (
                await conn.execute(
                    text("SELECT string_agg(row_to_json(t)::text, ' ') FROM privacy.forgotten t")
                )
            ).scalar_one()
            assert "1217054101900001" not in dump and "Rugun" not in dump and "permintaan subjek data" in dump
        async with engine.begin() as conn:
            renewed = await vault.keys_for_writing(conn, ["w-1"])
        assert renewed["w-1"].generation == 2
        assert open_payload(sealed, renewed["w-1"], FIELDS)["nik"] == FORGOTTEN
    finally:
        await engine.dispose()


async def test_a_province_year_of_keys_is_made_and_read_in_one_call_each(infra: Infra) -> None:
    """40,000 subjects (more than a province-year): more than one INSERT, one array parameter."""
    url = await asyncio.to_thread(fresh_database_url, infra)
    await asyncio.to_thread(upgrade, "privacy", url)
    engine = make_engine(url)
    vault = KeyVault(MasterKey.generate())
    subjects = [f"w-{n}" for n in range(40_000)]
    try:
        async with engine.begin() as conn:
            made = await vault.keys_for_writing(conn, subjects)
        async with engine.connect() as conn:
            read = await vault.keys(conn, subjects)
            stored = (await conn.execute(text("SELECT count(*) FROM privacy.data_keys"))).scalar_one()
        assert len(made) == len(read) == stored == 40_000
        assert read["w-39999"] == made["w-39999"]
    finally:
        await engine.dispose()
