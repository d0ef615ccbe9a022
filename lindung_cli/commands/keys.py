"""`lindung keys ...`: the Ed25519 keys that sign events, and the keyring every service verifies with.

- `generate` makes a producer's key: the private PEM (0600) in `--out`, named `<key id>.pem`, and its
  keyring entry, printed and, with `--keyring`, added to that file;
- `add` lists a public key someone else made (a regency system, BPJS: `openssl pkey -pubout`);
- `remove` takes a key out of the keyring (the last step of a rotation);
- `list` shows a keyring: key id, producer, fingerprint.

The procedure (rotation included): docs/security.md, "Signed events". Exit codes: 0 done, 2 refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from libs.events.signing import (
    Keyring,
    KeyringEntry,
    TrustedKey,
    add_to_keyring,
    fingerprint,
    generate_key,
    public_key_from_pem,
    public_key_text,
    remove_from_keyring,
)
from lindung_cli.tables import print_whole

app = typer.Typer(help="Keys that sign events, and the keyring that verifies them.", no_args_is_help=True)
console = Console()

KeyringOption = Annotated[
    Path, typer.Option("--keyring", help="the keyring JSON file (LINDUNG_EVENT_KEYRING_FILE)")
]


def _refused(exc: Exception) -> typer.Exit:
    console.print(f"[red]{escape(str(exc))}[/]")
    return typer.Exit(2)


def _entry(key: TrustedKey) -> str:
    return KeyringEntry(
        key_id=key.key_id, producer=key.producer, public_key=public_key_text(key.public_key)
    ).model_dump_json()


@app.command("generate")
def generate(
    producer: Annotated[str, typer.Option(help="whom the key speaks for: a service, bpjs, regency-12.17")],
    key_id: Annotated[
        str, typer.Option(help="the key's id, e.g. registry.2026-01 (letters, digits, . _ : -)")
    ],
    out: Annotated[Path, typer.Option(help="folder for the private key (<key id>.pem, mode 0600)")],
    keyring: Annotated[
        Path | None,
        typer.Option("--keyring", help="add the public key to this keyring file (created if missing)"),
    ] = None,
) -> None:
    """Make a key: the private PEM for the producer, the public key for the keyring."""
    try:
        signer = generate_key(out, producer, key_id, keyring)
    except (ValueError, OSError) as exc:
        raise _refused(exc) from None
    key = signer.trusted(producer)
    console.print(f"Private key: {escape(str(out / f'{key_id}.pem'))} (give it to {escape(producer)} only)")
    console.print(f"Fingerprint: {fingerprint(key.public_key)}")
    if keyring is not None:
        console.print(f"Added to {escape(str(keyring))}; restart the consumers to trust it.")
    print(_entry(key))


@app.command("add")
def add(
    producer: Annotated[str, typer.Option(help="whom the key speaks for")],
    key_id: Annotated[str, typer.Option(help="the id to list the key under")],
    public_key: Annotated[Path, typer.Option(help="the public key, PEM (openssl pkey -in KEY.pem -pubout)")],
    keyring: KeyringOption,
) -> None:
    """List a public key someone else generated (their private key never leaves them)."""
    try:
        key = TrustedKey(key_id, producer, public_key_from_pem(public_key.read_bytes()))
        add_to_keyring(keyring, key)
    except (ValueError, OSError) as exc:
        raise _refused(exc) from None
    console.print(f"Added {escape(key_id)} ({escape(producer)}), fingerprint {fingerprint(key.public_key)}")


@app.command("remove")
def remove(
    key_id: Annotated[str, typer.Option(help="the key to take out")],
    keyring: KeyringOption,
) -> None:
    """Take a key out of the keyring: what it signs is refused once the consumers restart."""
    try:
        key = remove_from_keyring(keyring, key_id)
    except (ValueError, OSError) as exc:
        raise _refused(exc) from None
    console.print(f"Removed {escape(key.key_id)} ({escape(key.producer)}); restart the consumers.")


@app.command("list")
def list_keys(keyring: KeyringOption) -> None:
    """The keys of a keyring: key id, producer, fingerprint."""
    try:
        keys = Keyring.load(keyring).entries()
    except (ValueError, OSError) as exc:
        raise _refused(exc) from None
    table = Table(title=f"{len(keys)} keys in {escape(str(keyring))}")
    for column in ("key id", "producer", "fingerprint (SHA-256)"):
        table.add_column(column, no_wrap=True)
    for key in keys:
        table.add_row(key.key_id, key.producer, fingerprint(key.public_key))
    print_whole(console, table)
