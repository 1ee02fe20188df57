"""Account paths: `assets/operating`, `liabilities/user_balances:{{user_id}}` (a template) and its
instances `liabilities/user_balances:usr_123`, plus FRAGMENT-style `matches` patterns for listing.
"""

from __future__ import annotations

import re
from functools import lru_cache

from clearway.ledger.domain.schema.errors import InvalidPathPattern

PATH_LENGTH_MAX = 512
TEMPLATE_KEY_LENGTH_MAX = 128
PATTERN_LENGTH_MAX = 512
# Each `*` becomes `[^/]*`; capping them keeps the regex's backtracking small.
PATTERN_WILDCARDS_MAX = 8
TEMPLATE_SEPARATOR = ":"

# A path is slash-separated segments; only templates (and their instances) have a `:key` suffix.
PATH_PREFIX = re.compile(r"[a-z0-9_][a-z0-9_-]*(?:/[a-z0-9_][a-z0-9_-]*)*")
# What a filled template key may contain: no '/', ':' or '*' so paths and patterns stay unambiguous.
TEMPLATE_KEY = re.compile(rf"[A-Za-z0-9_.@-]{{1,{TEMPLATE_KEY_LENGTH_MAX}}}")
PATTERN = re.compile(r"[A-Za-z0-9_.@/:*-]+")


def split_template(path: str) -> tuple[str, str | None]:
    """`"liabilities/x:{{id}}"` -> `("liabilities/x", "{{id}}")`; `"assets/operating"` -> `(..., None)`."""
    prefix, separator, key = path.partition(TEMPLATE_SEPARATOR)
    return (prefix, key) if separator else (prefix, None)


def is_valid_prefix(prefix: str) -> bool:
    return len(prefix) <= PATH_LENGTH_MAX and PATH_PREFIX.fullmatch(prefix) is not None


def is_valid_template_key(key: str) -> bool:
    return TEMPLATE_KEY.fullmatch(key) is not None


def path_matches(pattern: str, path: str) -> bool:
    """FRAGMENT `matches`: exact unless the pattern has `*`, which stands for any run of characters
    within one path segment (never a `/`). So `liabilities/pending_withdrawals:*` matches every
    instance of that template, and `liabilities/*` every direct child of `liabilities`.
    """
    if len(pattern) > PATTERN_LENGTH_MAX or PATTERN.fullmatch(pattern) is None:
        raise InvalidPathPattern(f"invalid account path pattern {pattern[:80]!r}")
    if pattern.count("*") > PATTERN_WILDCARDS_MAX:
        raise InvalidPathPattern(f"account path pattern has more than {PATTERN_WILDCARDS_MAX} wildcards")
    if "*" not in pattern:
        return pattern == path
    return _compile_pattern(pattern).fullmatch(path) is not None


@lru_cache(maxsize=256)
def _compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("[^/]*".join(re.escape(part) for part in pattern.split("*")))
