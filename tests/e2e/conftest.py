"""The end-to-end session's last check: after every test that ran the platform, its services' logs
hold no personal data and no secret (issue 14 §3: phone numbers, IBANs and tokens never in logs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clearway.devstack.stack import Platform

from .log_scan import scan_logs

FINDINGS_SHOWN_MAX = 20


@pytest.fixture(scope="session")
def running_platform(running_platform: Platform) -> Iterator[Platform]:
    """The plugin's platform, with its logs scanned once the session is done with it."""
    yield running_platform
    secrets = (
        running_platform.api_key,
        running_platform.approver_api_key,
        running_platform.viewer_api_key,
        running_platform.user_token_secret,
    )
    scanned, found = scan_logs(running_platform.work_dir / "logs", secrets)
    assert scanned > 0, "the platform wrote no logs to scan"
    if found:
        shown = "\n".join(str(finding) for finding in found[:FINDINGS_SHOWN_MAX])
        pytest.fail(f"{len(found)} personal data or secrets in {scanned} log lines:\n{shown}", pytrace=False)
