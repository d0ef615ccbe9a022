"""Logging set-up: one line per record, service name first, personal data masked whatever the message.

Lindung's own log lines name ids and counts, never a NIK or a name. The formatter is the second
line of defence for what others write: it masks 16-digit runs (NIKs) and cuts the inputs that
exception messages quote (pydantic's `input_value=`, SQLAlchemy's `[parameters: ...]`,
PostgreSQL's `DETAIL:`), tracebacks included. Uncaught exceptions and warnings are routed through
it too, so nothing reaches stderr unmasked.
"""

from __future__ import annotations

import logging
import sys
import threading
from types import TracebackType

from libs.pii import redact_personal_data


class RedactingFormatter(logging.Formatter):
    """A formatter that masks personal data (libs.pii.redact_personal_data) in the final text."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_personal_data(super().format(record))


def _log_uncaught(kind: type[BaseException], value: BaseException, traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, traceback)
        return
    logging.getLogger("uncaught").critical("uncaught exception", exc_info=(kind, value, traceback))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    _log_uncaught(args.exc_type, args.exc_value, args.exc_traceback)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send logs to stderr with timestamps, the service name and personal data masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(f"%(asctime)s %(levelname)s {service} %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiokafka", "faststream", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Tracebacks Python would print straight to stderr go through the masking formatter instead.
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
