"""How long audit runs report their progress, without tying the library to a terminal.

The CLI passes a Rich progress bar; tests and library callers pass nothing (NO_PROGRESS).
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    """A progress sink: one task at a time, sized when known."""

    def start(self, description: str, total: int | None) -> None: ...

    def advance(self, steps: int = 1) -> None: ...

    def finish(self) -> None: ...


class _NoProgress:
    def start(self, description: str, total: int | None) -> None:
        return None

    def advance(self, steps: int = 1) -> None:
        return None

    def finish(self) -> None:
        return None


NO_PROGRESS: Progress = _NoProgress()
