"""The service processes of a local stack: started one per instance (dying with their parent),
their output shown line by line under their name, waited for until ready, stopped in order."""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

import httpx
from rich.console import Console
from rich.markup import escape

from libs.settings import SERVICE_PORTS

COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # If `lindung up` itself is killed (SIGKILL), the kernel stops the children too.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def instance_port(service: str, index: int, offset: int = 0) -> int:
    """Instance 0 of a service uses its default port; further instances add 100 each."""
    return SERVICE_PORTS[service] + offset + 100 * index


@dataclass
class Child:
    service: str
    index: int
    port: int
    process: subprocess.Popen[bytes]
    pump: threading.Thread

    @property
    def label(self) -> str:
        return self.service if self.index == 0 else f"{self.service}#{self.index + 1}"


def pump_output(console: Console, label: str, colour: str, stream: IO[bytes] | None) -> None:
    """Show every line a child writes, under its label, until it closes its output."""
    assert stream is not None
    for raw in iter(stream.readline, b""):
        # The child's line is text, not markup: "[parameters: ...]" must show, "[/x]" must not
        # raise (a dead pump would leave the child blocked on a full pipe).
        line = escape(raw.decode(errors="replace").rstrip())
        console.print(f"[{colour}]{label:<16}|[/] {line}", markup=True, highlight=False, soft_wrap=True)


def wait_ready(children: Sequence[Child], timeout_s: float = 90.0) -> None:
    """Until every child answers /ready with 200 (RuntimeError when one exits first)."""
    deadline = time.monotonic() + timeout_s
    pending = list(children)
    with httpx.Client(timeout=2.0) as client:
        while pending:
            for child in list(pending):
                if child.process.poll() is not None:
                    raise RuntimeError(f"{child.label} exited with {child.process.returncode}")
                try:
                    if client.get(f"http://127.0.0.1:{child.port}/ready").status_code == 200:
                        pending.remove(child)
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                raise TimeoutError("not ready: " + ", ".join(c.label for c in pending))
            time.sleep(0.3)


def stop_children(children: Sequence[Child]) -> None:
    """SIGTERM to every child still running, then wait (15 s for all), killing a straggler."""
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait(5)


def watch(children: Sequence[Child]) -> None:
    """Block until a signal arrives or a child dies (RuntimeError)."""
    while True:
        for child in children:
            if child.process.poll() is not None:
                raise RuntimeError(f"{child.label} exited with {child.process.returncode}")
        time.sleep(0.5)
