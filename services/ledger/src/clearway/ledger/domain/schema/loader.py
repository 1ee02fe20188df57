"""Reading schema documents: from JSON text, and the ones shipped in `clearway.ledger.schemas`.

Reading package resources is not I/O against the outside world: the files ship inside the
wheel and never change while the process runs.
"""

from __future__ import annotations

import re
from importlib import resources

from pydantic import ValidationError

from clearway.ledger.domain.schema.errors import SchemaInvalid
from clearway.ledger.domain.schema.ledger_schema import LedgerSchema

SHIPPED_PACKAGE = "clearway.ledger.schemas"
SCHEMA_DOCUMENT_LENGTH_MAX = 1_000_000
SHIPPED_SCHEMAS_MAX = 100
SHIPPED_FILE_NAME = re.compile(r"(?P<key>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)\.json")
VALIDATION_ERRORS_SHOWN_MAX = 10


def parse_schema(document: str | bytes, source: str = "schema") -> LedgerSchema:
    """Validate one JSON schema document; `SchemaInvalid` lists what is wrong, by location."""
    if len(document) > SCHEMA_DOCUMENT_LENGTH_MAX:
        raise SchemaInvalid(f"{source}: document is larger than {SCHEMA_DOCUMENT_LENGTH_MAX} bytes")
    try:
        return LedgerSchema.model_validate_json(document)
    except ValidationError as error:
        raise _invalid(error, source) from error


def parse_schema_object(document: object, source: str = "schema") -> LedgerSchema:
    """Like `parse_schema` for an already-decoded JSON value (an HTTP body, a database column)."""
    try:
        return LedgerSchema.model_validate(document)
    except ValidationError as error:
        raise _invalid(error, source) from error


def _invalid(error: ValidationError, source: str) -> SchemaInvalid:
    problems = [
        f"{'.'.join(str(part) for part in item['loc']) or '(schema)'}: {item['msg']}"
        for item in error.errors(include_url=False)[:VALIDATION_ERRORS_SHOWN_MAX]
    ]
    return SchemaInvalid(f"{source} is invalid: " + "; ".join(problems), errors=problems)


def load_shipped_schemas() -> list[LedgerSchema]:
    """Every `<key>.v<version>.json` in the package, sorted by (key, version)."""
    schemas: list[LedgerSchema] = []
    files = sorted(
        (entry for entry in resources.files(SHIPPED_PACKAGE).iterdir() if entry.name.endswith(".json")),
        key=lambda entry: entry.name,
    )
    assert len(files) <= SHIPPED_SCHEMAS_MAX, "more shipped schemas than expected"
    for file in files:
        name = SHIPPED_FILE_NAME.fullmatch(file.name)
        if name is None:
            raise SchemaInvalid(f"shipped schema file {file.name!r} is not named <key>.v<version>.json")
        schema = parse_schema(file.read_bytes(), source=file.name)
        if (schema.key, schema.version) != (name["key"], int(name["version"])):
            raise SchemaInvalid(f"{file.name} declares key {schema.key!r} version {schema.version}")
        schemas.append(schema)
    return sorted(schemas, key=lambda schema: (schema.key, schema.version))
