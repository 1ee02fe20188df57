"""Free-port helpers for the local stack and the test fixtures.

Asking the kernel for port 0 is the only reliable way to find a free port; the port is
released before the caller binds it, so a small race remains. `reserve_port` remembers what
it handed out in this process so two components started together never get the same one.
"""

from __future__ import annotations

import contextlib
import socket
import threading

_LOCALHOST = "127.0.0.1"
_PICK_ATTEMPTS_MAX = 50

_handed_out: set[int] = set()
_handed_out_lock = threading.Lock()


def is_port_free(port: int, host: str = _LOCALHOST) -> bool:
    """True when nothing listens on `host:port` and we could bind it now."""
    assert 0 < port < 65_536, port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        if probe.connect_ex((host, port)) == 0:
            return False
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        # Servers set SO_REUSEADDR, so sockets left in TIME_WAIT by a stopped server must not count.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((host, port))
        except OSError:
            return False
    return True


def is_port_open(port: int, host: str = _LOCALHOST, timeout_s: float = 0.2) -> bool:
    """True when something accepts TCP connections on `host:port`."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout_s):
        return True
    return False


def find_free_port(host: str = _LOCALHOST) -> int:
    """A port the kernel considers free and that this process has not handed out before."""
    for _ in range(_PICK_ATTEMPTS_MAX):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
            listener.bind((host, 0))
            port = int(listener.getsockname()[1])
        with _handed_out_lock:
            if port not in _handed_out:
                _handed_out.add(port)
                return port
    raise RuntimeError(f"no free port found after {_PICK_ATTEMPTS_MAX} attempts")


def pick_port(preferred: int, host: str = _LOCALHOST) -> int:
    """`preferred` when it is free, otherwise any free port."""
    with _handed_out_lock:
        preferred_taken = preferred in _handed_out
    if not preferred_taken and is_port_free(preferred, host):
        with _handed_out_lock:
            _handed_out.add(preferred)
        return preferred
    return find_free_port(host)
