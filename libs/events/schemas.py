"""Export of the contracts as JSON Schema files (one per event type and version)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from libs.events.catalog import CONTRACTS
from libs.events.envelope import Envelope


def contract_schema(contract: type[Any]) -> dict[str, Any]:
    """The JSON Schema of one contract, annotated with its type, version and topic."""
    schema: dict[str, Any] = contract.model_json_schema()
    schema["$id"] = (
        f"https://lindung.sumutprov.go.id/schemas/{contract.event_type}.v{contract.schema_version}.json"
    )
    schema["x-event-type"] = contract.event_type
    schema["x-schema-version"] = contract.schema_version
    schema["x-topic"] = contract.topic
    return schema


def export_schemas(directory: Path) -> list[Path]:
    """Write the envelope's and every contract's JSON Schema into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    envelope_path = directory / "Envelope.json"
    envelope_path.write_text(json.dumps(Envelope.model_json_schema(), indent=2, sort_keys=True))
    written.append(envelope_path)
    for contract in CONTRACTS:
        path = directory / f"{contract.event_type}.v{contract.schema_version}.json"
        path.write_text(json.dumps(contract_schema(contract), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written
