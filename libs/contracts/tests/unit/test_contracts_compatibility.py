"""The schema compatibility checker on small hand-made models: what breaks and what is additive."""

from typing import Any, Literal

from pydantic import BaseModel, Field

from clearway.contracts.compatibility import Change, breaking_changes, compare_schemas


def schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="validation")


def kinds(changes: list[Change]) -> set[tuple[str, str]]:
    return {(change.path, change.kind) for change in changes}


class Party(BaseModel):
    name: str | None = None


class Base(BaseModel):
    id: str
    amount_minor: int = Field(ge=0)
    channel: Literal["pos", "atm"]
    party: Party
    tags: list[str] = []


def test_identical_schemas_have_no_changes() -> None:
    assert compare_schemas(schema(Base), schema(Base)) == []


def test_additive_example_new_optional_property_is_allowed() -> None:
    class Additive(BaseModel):
        id: str
        amount_minor: int = Field(ge=0, description="now documented")
        channel: Literal["pos", "atm", "ecommerce"]
        party: Party
        tags: list[str] = []
        note: str | None = None

    changes = compare_schemas(schema(Base), schema(Additive))
    assert kinds(changes) == {("$.note", "property_added_optional"), ("$.channel", "enum_widened")}
    assert breaking_changes(schema(Base), schema(Additive)) == []


def test_breaking_example_rename_retype_require_and_narrow() -> None:
    class PartyV2(BaseModel):
        full_name: str | None = None

    class Breaking(BaseModel):
        identifier: str  # renamed from id
        amount_minor: str  # type changed
        channel: Literal["pos"]  # enum narrowed
        party: PartyV2  # nested rename
        tags: list[int] = []  # item type changed
        region: str  # new and required

    found = kinds(breaking_changes(schema(Base), schema(Breaking)))
    assert found == {
        ("$.id", "property_removed"),
        ("$.identifier", "property_added_required"),
        ("$.amount_minor", "type_changed"),
        ("$.channel", "enum_narrowed"),
        ("$.party.name", "property_removed"),
        ("$.tags[]", "type_changed"),
        ("$.region", "property_added_required"),
    }


def test_optional_field_becoming_required_breaks() -> None:
    class Strict(BaseModel):
        name: str | None

    assert kinds(breaking_changes(schema(Party), schema(Strict))) == {("$.name", "became_required")}


def test_required_field_becoming_optional_breaks() -> None:
    class Loose(BaseModel):
        id: str | None = None
        amount_minor: int = Field(ge=0)
        channel: Literal["pos", "atm"]
        party: Party
        tags: list[str] = []

    found = kinds(breaking_changes(schema(Base), schema(Loose)))
    assert ("$.id", "became_optional") in found
    assert ("$.id", "type_changed") in found  # null is now a possible value


def test_nullable_becoming_non_null_is_a_type_change() -> None:
    class NonNull(BaseModel):
        name: str = ""

    assert kinds(breaking_changes(schema(Party), schema(NonNull))) == {("$.name", "type_changed")}


def test_constraints_tightened_break_and_relaxed_do_not() -> None:
    class Tight(BaseModel):
        value: int = Field(ge=10)

    class Loose(BaseModel):
        value: int = Field(ge=0)

    class Unbounded(BaseModel):
        value: int

    assert kinds(breaking_changes(schema(Loose), schema(Tight))) == {("$.value", "constraint_tightened")}
    assert breaking_changes(schema(Tight), schema(Loose)) == []
    assert kinds(breaking_changes(schema(Unbounded), schema(Loose))) == {("$.value", "constraint_tightened")}
    assert breaking_changes(schema(Loose), schema(Unbounded)) == []


def test_format_change_breaks() -> None:
    import datetime

    class WithDate(BaseModel):
        due: datetime.date

    class WithDateTime(BaseModel):
        due: datetime.datetime

    assert kinds(breaking_changes(schema(WithDate), schema(WithDateTime))) == {("$.due", "format_changed")}


def test_change_description_mentions_its_path() -> None:
    change = Change("$.id", "property_removed", "property removed (or renamed)")
    assert change.breaking
    assert "BREAKING" in str(change) and "$.id" in str(change)


def test_an_amount_newly_bounded_at_the_money_maximum_is_compatible_and_any_other_bound_is_not() -> None:
    from clearway.contracts.events.primitives import AMOUNT_MINOR_MAX, SignedAmountMinor

    class Unbounded(BaseModel):
        amount_minor: int
        balance_minor: int

    class AtTheMaximum(BaseModel):
        amount_minor: int = Field(ge=0, le=AMOUNT_MINOR_MAX)
        balance_minor: SignedAmountMinor

    class BelowTheMaximum(BaseModel):
        amount_minor: int = Field(le=AMOUNT_MINOR_MAX - 1)
        balance_minor: int = Field(ge=-AMOUNT_MINOR_MAX + 1)

    changes = compare_schemas(schema(Unbounded), schema(AtTheMaximum))
    assert kinds([change for change in changes if change.kind == "amount_bound_added"]) == {
        ("$.amount_minor", "amount_bound_added"),
        ("$.balance_minor", "amount_bound_added"),
    }
    assert kinds(breaking_changes(schema(Unbounded), schema(AtTheMaximum))) == {
        ("$.amount_minor", "constraint_tightened")
    }
    assert [change.detail for change in breaking_changes(schema(Unbounded), schema(AtTheMaximum))] == [
        "minimum None -> 0"
    ]
    assert kinds(breaking_changes(schema(Unbounded), schema(BelowTheMaximum))) == {
        ("$.amount_minor", "constraint_tightened"),
        ("$.balance_minor", "constraint_tightened"),
    }
