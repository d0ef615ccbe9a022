"""Logging set-up: one line per record, service name first, NIKs masked whatever the message."""

from __future__ import annotations

import logging
import sys

from libs.pii import redact_niks


class RedactingFormatter(logging.Formatter):
    """A formatter that masks any 16-digit run (a NIK) in the final text."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_niks(super().format(record))


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send logs to stderr with timestamps, the service name and NIK masking."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "faststream", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
