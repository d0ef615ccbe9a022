"""A command the rules refuse, as officers read it: an HTTP status, a stable machine code and a
message in Indonesian (with details where a number explains the refusal)."""

from __future__ import annotations

from typing import Any


class Refused(Exception):
    """A command the rules refuse: HTTP status, machine code, message for officers (Indonesian)."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def body(self) -> dict[str, Any]:
        """The refusal as an HTTP answer's `detail`."""
        return {
            "code": self.code,
            "message": self.message,
            **({"details": self.details} if self.details else {}),
        }
