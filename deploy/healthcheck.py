"""Container health probe: exit 0 when the service answers 200 on the given path.

The image has no curl, so the probe uses the standard library. The port is the service's
own `CLEARWAY_<SERVICE>_PORT`, falling back to the platform's fixed port for that service.
"""

import os
import sys
import urllib.error
import urllib.request

DEFAULT_PORTS = {
    "ledger": 5001,
    "authorization": 5002,
    "funding": 5003,
    "payout": 5004,
    "reconciliation": 5005,
}
TIMEOUT_S = 3


def main() -> int:
    path = sys.argv[1] if len(sys.argv) > 1 else "/health/live"
    service = os.environ["CLEARWAY_SERVICE"]
    port = os.environ.get(f"CLEARWAY_{service.upper()}_PORT", str(DEFAULT_PORTS[service]))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT_S) as response:
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError):
        return 1


if __name__ == "__main__":
    sys.exit(main())
