"""`make lint`: known vulnerabilities in the locked dependencies (pip-audit over uv.lock's export).

Fails when any locked package has a known vulnerability (PyPI's advisory data, through pip-audit).
A package the advisory service cannot look up (an offline machine, a mirror that serves only the
latest release) is reported as not audited, with a count, and does not fail the build: an audit
that could not run is said out loud rather than passed off as clean.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

UV = sys.argv[1] if len(sys.argv) > 1 else "uv"


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        requirements = Path(scratch) / "requirements.txt"
        subprocess.run(
            [
                UV,
                "export",
                "--frozen",
                "--all-packages",
                "--no-emit-workspace",
                "--no-hashes",
                "--quiet",
                "-o",
                str(requirements),
            ],
            check=True,
        )
        audit = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip_audit",
                "-r",
                str(requirements),
                "--no-deps",
                "--disable-pip",
                "--progress-spinner",
                "off",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
    try:
        report = json.loads(audit.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit did not run: {audit.stderr.strip()[-500:]}", file=sys.stderr)
        return 1
    dependencies = report["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            print(f"{dependency['name']} {dependency['version']}: {vuln['id']} (fixed in {fixed})")
    audited = len(dependencies) - len(skipped)
    print(f"pip-audit: {audited} locked packages audited, {len(vulnerable)} with known vulnerabilities", end="")
    print(f"; {len(skipped)} not audited (the advisory service could not look them up)" if skipped else "")
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
