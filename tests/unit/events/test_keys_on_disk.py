"""Keys on disk: `lindung keys` (generate, add, remove, list), development keys, loading a signer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from libs.events.signing import (
    Keyring,
    Signer,
    dev_key_id,
    dev_keys,
    fingerprint,
    key_file,
    load_keyring,
    load_signer,
    signers_in,
)
from lindung_cli.main import app

VALUE = b'{"producer":"registry"}'


def lindung(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(app, ["keys", *args], env={"COLUMNS": "200"})
    return done.exit_code, done.output


def test_generate_writes_a_private_key_for_the_owner_and_its_entry_in_the_keyring(tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    code, out = lindung(
        "generate", "--producer", "registry", "--key-id", "registry.2026-01", "--out", str(tmp_path / "keys"),
        "--keyring", str(keyring),
    )  # fmt: skip
    assert code == 0, out
    pem = tmp_path / "keys" / "registry.2026-01.pem"
    assert pem.stat().st_mode & 0o777 == 0o600
    signer = Signer.load("registry.2026-01", pem)
    trusted = Keyring.load(keyring).verify(VALUE, signer.headers(VALUE))
    assert (trusted.key_id, trusted.producer) == ("registry.2026-01", "registry")
    printed = json.loads(out.strip().splitlines()[-1])
    assert printed["key_id"] == "registry.2026-01" and printed["producer"] == "registry"

    # A key is never overwritten, and a key id is never listed twice.
    again = ("generate", "--producer", "registry", "--key-id", "registry.2026-01", "--out")
    code, out = lindung(*again, str(tmp_path / "keys"), "--keyring", str(keyring))
    assert code == 2 and "exists already" in out
    code, out = lindung(*again, str(tmp_path / "elsewhere"), "--keyring", str(keyring))
    assert code == 2 and "twice" in out
    assert not (tmp_path / "elsewhere" / "registry.2026-01.pem").exists()


def test_a_key_made_elsewhere_is_added_listed_and_removed(tmp_path: Path) -> None:
    keyring = tmp_path / "keyring.json"
    theirs = Ed25519PrivateKey.generate()
    public = tmp_path / "samosir.pub"
    public.write_bytes(
        theirs.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    key = ("--producer", "regency-12.17", "--key-id", "regency-12.17.2026-01")
    code, out = lindung("add", *key, "--public-key", str(public), "--keyring", str(keyring))
    assert code == 0, out
    code, out = lindung("list", "--keyring", str(keyring))
    assert code == 0 and "regency-12.17.2026-01" in out and fingerprint(theirs.public_key()) in out
    signed = Signer("regency-12.17.2026-01", theirs)
    assert Keyring.load(keyring).verify(VALUE, signed.headers(VALUE)).producer == "regency-12.17"

    code, out = lindung("remove", "--key-id", "regency-12.17.2026-01", "--keyring", str(keyring))
    assert code == 0, out
    assert len(Keyring.load(keyring)) == 0
    code, out = lindung("remove", "--key-id", "regency-12.17.2026-01", "--keyring", str(keyring))
    assert code == 2 and "no key" in out


@pytest.mark.parametrize("key_id", ["../registry", "a/b", "..", ""])
def test_a_key_id_names_a_file_in_the_folder_only(tmp_path: Path, key_id: str) -> None:
    with pytest.raises(ValueError, match="key id"):
        key_file(tmp_path, key_id)


def test_development_keys_are_made_once_and_found_by_producer(tmp_path: Path) -> None:
    keyring_file = dev_keys(tmp_path, ["registry", "bpjs_simulator"])
    first = Keyring.load(keyring_file)
    assert sorted(k.key_id for k in first.entries()) == ["bpjs_simulator.dev", "registry.dev"]
    # Again with one more producer: the existing keys are kept, the new one added.
    dev_keys(tmp_path, ["registry", "bpjs_simulator", "regency-12.17"])
    second = Keyring.load(keyring_file)
    assert len(second) == 3
    signers = signers_in(tmp_path, second)
    assert set(signers) == {"registry", "bpjs_simulator", "regency-12.17"}
    registry = signers["registry"]
    assert registry.key_id == dev_key_id("registry")
    assert first.verify(VALUE, registry.headers(VALUE)).producer == "registry"


def test_signing_settings_go_together(tmp_path: Path) -> None:
    assert load_signer(None, None) is None
    assert load_keyring(None) is None
    with pytest.raises(ValueError, match="together"):
        load_signer(str(tmp_path / "k.pem"), None)
    with pytest.raises(ValueError, match="together"):
        load_signer(None, "registry.1")
