"""The services of Lindung, by the names their schemas, consumer groups, producers and ports use:
the one list every tool starts from."""

from __future__ import annotations

# In the order they are started (each consumes what the ones before it publish).
SERVICES = ("registry", "allocation", "enrollment", "claims", "bpjs_simulator", "dashboard")
