"""Export each topic's JSON Schema, and hold the models against the committed copies.

    python -m clearway.contracts.schemas --write libs/contracts/schemas   # after a deliberate change
    python -m clearway.contracts.schemas --check libs/contracts/schemas   # in CI

`--check` exits 1 on a breaking change (see clearway.contracts.compatibility) or a topic whose
committed schema vanished from the catalogue; additive drift is reported and passes unless --strict.
The schemas describe what a consumer accepts (pydantic's validation mode).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .catalogue import CATALOGUE, TopicSpec
from .compatibility import Change, compare_schemas

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE_SUFFIX = ".json"


def topic_json_schema(spec: TopicSpec) -> dict[str, Any]:
    schema = spec.schema.model_json_schema(mode="validation")
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"urn:clearway:topic:{spec.name}", **schema}


def export_json_schemas() -> dict[str, dict[str, Any]]:
    """Topic name -> JSON Schema of its message body, for every catalogued topic."""
    return {spec.name: topic_json_schema(spec) for spec in CATALOGUE}


def render(schema: dict[str, Any]) -> str:
    """The committed file form: stable key order so diffs show only real changes."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in export_json_schemas().items():
        path = directory / f"{name}{SCHEMA_FILE_SUFFIX}"
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


def load_committed_schemas(directory: Path) -> dict[str, dict[str, Any]]:
    return {
        path.name.removesuffix(SCHEMA_FILE_SUFFIX): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob(f"*{SCHEMA_FILE_SUFFIX}"))
    }


@dataclass
class SchemaCheck:
    """The current models held against the committed schemas."""

    breaking: dict[str, list[Change]] = field(default_factory=dict)
    additive: dict[str, list[Change]] = field(default_factory=dict)
    removed_topics: list[str] = field(default_factory=list)  # committed, no longer catalogued: breaking
    new_topics: list[str] = field(default_factory=list)  # catalogued, not committed yet
    stale_topics: list[str] = field(default_factory=list)  # committed file differs from the export

    @property
    def compatible(self) -> bool:
        return not self.breaking and not self.removed_topics

    @property
    def up_to_date(self) -> bool:
        return self.compatible and not self.new_topics and not self.stale_topics

    def lines(self) -> list[str]:
        report = [f"{topic}: {change}" for topic, changes in self.breaking.items() for change in changes]
        report += [f"{topic}: topic removed (a breaking change)" for topic in self.removed_topics]
        report += [f"{topic}: {change}" for topic, changes in self.additive.items() for change in changes]
        report += [f"{topic}: new topic, schema not committed yet" for topic in self.new_topics]
        report += [f"{topic}: committed schema is out of date" for topic in self.stale_topics]
        return report


def check_schemas(committed: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]) -> SchemaCheck:
    result = SchemaCheck()
    result.removed_topics = sorted(committed.keys() - current.keys())
    result.new_topics = sorted(current.keys() - committed.keys())
    for topic in sorted(committed.keys() & current.keys()):
        changes = compare_schemas(committed[topic], current[topic])
        breaking = [change for change in changes if change.breaking]
        additive = [change for change in changes if not change.breaking]
        if breaking:
            result.breaking[topic] = breaking
        if additive:
            result.additive[topic] = additive
        if render(committed[topic]) != render(current[topic]):
            result.stale_topics.append(topic)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clearway.contracts.schemas", description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, metavar="DIR", help="write <topic>.json for every topic")
    action.add_argument("--check", type=Path, metavar="DIR", help="compare the models with committed schemas")
    parser.add_argument("--strict", action="store_true", help="with --check, also fail on additive drift")
    arguments = parser.parse_args(argv)
    if arguments.write is not None:
        written = write_schemas(arguments.write)
        print(f"wrote {len(written)} schemas to {arguments.write}")
        return 0
    result = check_schemas(load_committed_schemas(arguments.check), export_json_schemas())
    for line in result.lines():
        print(line)
    if not result.compatible:
        print("breaking schema change: add a new topic instead (ARCHITECTURE, Versioning)", file=sys.stderr)
        return 1
    if not result.up_to_date:
        print(f"schemas drifted compatibly; run --write {arguments.check} and commit", file=sys.stderr)
        return 1 if arguments.strict else 0
    print("schemas up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
