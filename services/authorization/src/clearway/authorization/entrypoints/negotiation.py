"""`Accept` negotiation for resources with several representations (a statement: JSON or PDF).

Absent or `*/*` means the default (the first offered). Quality values are honoured; a media range
with `q=0` refuses that type; a caller that accepts none of the offered types gets None (406).
"""

from __future__ import annotations

from collections.abc import Sequence

MEDIA_RANGES_MAX = 32  # a longer header is read up to this many ranges


def _ranges(accept: str) -> list[tuple[str, float]]:
    ranges: list[tuple[str, float]] = []
    for part in accept.split(",")[:MEDIA_RANGES_MAX]:
        media, *parameters = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality))
    return ranges


def _quality(offered: str, ranges: list[tuple[str, float]]) -> float:
    """The quality of the most specific range that matches `offered`; 0 when none does."""
    kind = offered.split("/")[0] + "/*"
    for candidate in (offered, kind, "*/*"):
        found = [quality for media, quality in ranges if media == candidate]
        if found:
            return max(found)
    return 0.0


def negotiate(accept: str | None, offered: Sequence[str]) -> str | None:
    """The offered media type the caller prefers (ties go to the earlier offer), or None."""
    assert offered, "a resource offers at least one representation"
    if accept is None or not accept.strip():
        return offered[0]
    ranges = _ranges(accept)
    best, best_quality = None, 0.0
    for media in offered:
        quality = _quality(media, ranges)
        if quality > best_quality:
            best, best_quality = media, quality
    return best
