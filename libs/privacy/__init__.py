"""Forgetting a person: field encryption under per-person keys, and the key vault (docs/security.md)."""
