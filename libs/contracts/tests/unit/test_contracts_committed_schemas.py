"""Hold the current models against the JSON Schemas committed under libs/contracts/schemas.

Fails on a breaking change to any topic. An additive change passes here; refresh the committed files
with `python -m clearway.contracts.schemas --write libs/contracts/schemas` so the next change is
judged against it.
"""

from pathlib import Path

from clearway.contracts.schemas import check_schemas, export_json_schemas, load_committed_schemas, main, render

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


def test_committed_schemas_exist_for_every_topic() -> None:
    committed = load_committed_schemas(SCHEMAS_DIR)
    missing = sorted(export_json_schemas().keys() - committed.keys())
    assert not missing, f"commit schemas for new topics (run --write): {missing}"


def test_models_are_compatible_with_committed_schemas() -> None:
    result = check_schemas(load_committed_schemas(SCHEMAS_DIR), export_json_schemas())
    assert result.compatible, "breaking schema change; add a new topic instead:\n" + "\n".join(result.lines())


def test_check_reports_a_breaking_change_and_the_cli_fails(tmp_path: Path) -> None:
    current = export_json_schemas()
    committed = {name: dict(schema) for name, schema in current.items()}
    transfer = dict(committed["transfer.created"])
    transfer["properties"] = {**transfer["properties"], "legacy_field": {"type": "string"}}
    committed["transfer.created"] = transfer
    result = check_schemas(committed, current)
    assert not result.compatible
    assert [change.path for change in result.breaking["transfer.created"]] == ["$.legacy_field"]

    for name, schema in committed.items():
        (tmp_path / f"{name}.json").write_text(render(schema), encoding="utf-8")
    assert main(["--check", str(tmp_path)]) == 1


def test_write_then_check_is_clean(tmp_path: Path) -> None:
    assert main(["--write", str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path), "--strict"]) == 0


def test_additive_drift_passes_unless_strict(tmp_path: Path) -> None:
    main(["--write", str(tmp_path)])
    stale = tmp_path / "payable.created.json"
    schema = load_committed_schemas(tmp_path)["payable.created"]
    del schema["properties"]["external_id"]  # the current model has it as an extra optional field
    stale.write_text(render(schema), encoding="utf-8")
    assert main(["--check", str(tmp_path)]) == 0
    assert main(["--check", str(tmp_path), "--strict"]) == 1
