"""Readable console output for `make run`: each service's lines prefixed with its name.

Every line also goes to the service's own log file, untouched, so the full record survives.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import IO

_COLOURS = ("36", "33", "35", "32", "34", "31")
_LINE_BYTES_MAX = 16 * 1024


class Console:
    def __init__(self, stream: IO[str] | None = None, *, colour: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.colour = self.stream.isatty() if colour is None else colour
        self._lock = threading.Lock()
        self._prefix_width = 14
        self._colour_of: dict[str, str] = {}

    def say(self, message: str) -> None:
        with self._lock:
            self.stream.write(message + "\n")
            self.stream.flush()

    def _prefix(self, name: str) -> str:
        label = f"{name:<{self._prefix_width}}|"
        if not self.colour:
            return label
        colour = self._colour_of.setdefault(name, _COLOURS[len(self._colour_of) % len(_COLOURS)])
        return f"\x1b[{colour}m{label}\x1b[0m"

    def line(self, name: str, text: str) -> None:
        self.say(f"{self._prefix(name)} {text}")

    def tee(self, name: str, source: IO[bytes], log_file: IO[bytes]) -> threading.Thread:
        """Copy `source` to `log_file` and, prefixed, to the console until it closes."""

        def pump() -> None:
            # ValueError/OSError: the owner closed the log file after giving up waiting for us.
            with source, contextlib.suppress(ValueError, OSError):
                for raw in iter(lambda: source.readline(_LINE_BYTES_MAX), b""):
                    log_file.write(raw)
                    log_file.flush()
                    self.line(name, raw.decode("utf-8", errors="replace").rstrip("\n"))

        thread = threading.Thread(target=pump, name=f"console-{name}", daemon=True)
        thread.start()
        return thread
