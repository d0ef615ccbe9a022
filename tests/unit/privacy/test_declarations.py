"""Every contract that carries personal data declares it (libs/privacy seals what is declared)."""

from __future__ import annotations

from pydantic import BaseModel

from libs.events.catalog import CONTRACTS
from libs.events.contracts.bpjs import ClaimPaid
from libs.events.contracts.registry import NominationSubmitted
from libs.pii import ENCRYPTED_FIELDS

# Written by systems outside Lindung, in clear: their inbox copies are sealed by the consumer.
FOREIGN = {NominationSubmitted, ClaimPaid}


def _field_names(model: type[BaseModel]) -> set[str]:
    found: set[str] = set()
    for name, info in model.model_fields.items():
        found.add(name)
        for kind in (info.annotation, *getattr(info.annotation, "__args__", ())):
            if isinstance(kind, type) and issubclass(kind, BaseModel):
                found |= _field_names(kind)
    return found


def test_contracts_with_personal_fields_declare_them_and_name_their_person() -> None:
    carrying = {c for c in CONTRACTS if _field_names(c) & ENCRYPTED_FIELDS}
    assert {c.event_type for c in carrying - FOREIGN} == {
        c.event_type for c in CONTRACTS if c.personal_fields
    }
    assert {
        "WorkerNominated",
        "WorkerValidated",
        "QuotaAssigned",
        "AssignmentDecreed",
        "RegistrationRequested",
    } <= {c.event_type for c in carrying}
    for contract in carrying - FOREIGN:
        assert "worker_id" in contract.model_fields, contract.event_type
        assert contract.personal_fields == ENCRYPTED_FIELDS
