"""Where the audit finds allocation's reading of its own stream: the quota decision each stored
event stands for (allocation's wire <-> domain mapping, imported, never copied)."""

from __future__ import annotations

from services.allocation.application.quota_stream import to_domain as quota_decision

__all__ = ["quota_decision"]
