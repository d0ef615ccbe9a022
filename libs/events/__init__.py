"""Lindung's event contracts: the only place where event shapes are defined."""

from libs.events.catalog import BY_TYPE, CONTRACTS, contract_for, decode
from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope, utcnow

__all__ = ["BY_TYPE", "CONTRACTS", "DomainEvent", "Envelope", "contract_for", "decode", "utcnow"]
