"""`{{parameter}}` references inside account paths and currencies, and filling them in.

A reference is exactly `{{name}}` with no spaces, `name` an identifier. Anything else that looks
like a brace is refused when the schema loads, so a typo never becomes a literal path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from clearway.ledger.domain.schema.errors import InvalidParameter, MissingParameter, TemplateSyntaxError

PARAMETER_NAME_LENGTH_MAX = 64
PARAMETER_VALUE_LENGTH_MAX = 256
PARAMETERS_MAX = 100
PARAMETER_NAME = re.compile(rf"[A-Za-z_][A-Za-z0-9_]{{0,{PARAMETER_NAME_LENGTH_MAX - 1}}}")
PARAMETER_REFERENCE = re.compile(r"\{\{(" + PARAMETER_NAME.pattern + r")\}\}")


def referenced_parameters(text: str) -> tuple[str, ...]:
    """Names referenced by `text`, in order of first use; raises on malformed braces."""
    remainder = PARAMETER_REFERENCE.sub("", text)
    if "{" in remainder or "}" in remainder:
        raise TemplateSyntaxError(f"malformed parameter reference in {text!r}: write {{{{name}}}}")
    return tuple(dict.fromkeys(PARAMETER_REFERENCE.findall(text)))


def is_single_reference(text: str) -> bool:
    return PARAMETER_REFERENCE.fullmatch(text) is not None


def fill(text: str, parameters: Mapping[str, str]) -> str:
    """Replace every `{{name}}` with its value; a missing name is the caller's error."""
    missing = [name for name in referenced_parameters(text) if name not in parameters]
    if missing:
        raise MissingParameter(f"missing entry parameter(s): {', '.join(missing)}", parameters=missing)
    return PARAMETER_REFERENCE.sub(lambda match: parameters[match.group(1)], text)


def check_parameters(parameters: Mapping[str, str]) -> None:
    """Bound what a caller can hand us before any of it is used."""
    if len(parameters) > PARAMETERS_MAX:
        raise InvalidParameter(f"at most {PARAMETERS_MAX} entry parameters are allowed, got {len(parameters)}")
    for name, value in parameters.items():
        if not isinstance(name, str) or PARAMETER_NAME.fullmatch(name) is None:
            raise InvalidParameter(f"entry parameter name {str(name)[:80]!r} is not an identifier")
        if not isinstance(value, str):
            raise InvalidParameter(f"entry parameter {name} must be a string", parameter=name)
        if len(value) > PARAMETER_VALUE_LENGTH_MAX:
            raise InvalidParameter(
                f"entry parameter {name} is longer than {PARAMETER_VALUE_LENGTH_MAX} characters",
                parameter=name,
            )
