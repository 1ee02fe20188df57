"""Decide whether a new JSON Schema of a topic is a compatible evolution of the committed one.

Topics evolve additively: a change must let messages written under either schema be read under the
other. Breaking: a property removed (or renamed, which is a removal plus an addition), a property's
type or format changed, a property newly required, a required property made optional, an enum
narrowed, a constraint tightened. Allowed: a new optional property, an enum widened, a constraint
relaxed, any change of title, description, default or examples, and one tightening: an integer
amount newly bounded at the platform's money maximum (`amount_bound_added`, see `_is_amount_bound`).

The checker reads the subset of JSON Schema pydantic emits: `$ref` into `$defs`, `anyOf` unions
(e.g. `X | None`), `const`/`enum`, `properties`/`required`, `items`, `additionalProperties`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from clearway.contracts.events.primitives import AMOUNT_MINOR_MAX

ChangeKind = Literal[
    "property_removed",
    "property_added_required",
    "property_added_optional",
    "became_required",
    "became_optional",
    "type_changed",
    "format_changed",
    "enum_narrowed",
    "enum_widened",
    "constraint_tightened",
    "constraint_relaxed",
    "amount_bound_added",
]
BREAKING_KINDS: frozenset[ChangeKind] = frozenset(
    {
        "property_removed",
        "property_added_required",
        "became_required",
        "became_optional",
        "type_changed",
        "format_changed",
        "enum_narrowed",
        "constraint_tightened",
    }
)

# Nesting deeper than this means a recursive schema or a bug; contracts are a few levels deep.
DEPTH_MAX = 32
ANY_TYPE: frozenset[str] = frozenset({"string", "integer", "number", "boolean", "object", "array", "null"})
_LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_EXACT_CONSTRAINTS = ("pattern", "multipleOf")

Schema = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    kind: ChangeKind
    detail: str

    @property
    def breaking(self) -> bool:
        return self.kind in BREAKING_KINDS

    def __str__(self) -> str:
        label = "BREAKING" if self.breaking else "additive"
        return f"{label} {self.kind} at {self.path}: {self.detail}"


def compare_schemas(old: Schema, new: Schema) -> list[Change]:
    """Every difference that matters between two schemas of one topic, old -> new."""
    changes: list[Change] = []
    _compare(_Resolver(old), old, _Resolver(new), new, "$", 0, changes)
    return changes


def breaking_changes(old: Schema, new: Schema) -> list[Change]:
    return [change for change in compare_schemas(old, new) if change.breaking]


@dataclass(frozen=True, slots=True)
class _Node:
    """A schema reduced to what compatibility depends on."""

    types: frozenset[str]
    formats: frozenset[str]
    enum: frozenset[Any] | None  # None: any value of the types; never contains null
    constraints: Mapping[str, Any]
    properties: Mapping[str, Schema]
    required: frozenset[str]
    items: Schema | None
    additional: Schema | None


class _Resolver:
    def __init__(self, root: Schema) -> None:
        self._root = root

    def resolve(self, schema: Schema) -> Schema:
        for _ in range(DEPTH_MAX):
            reference = schema.get("$ref")
            if reference is None:
                return schema
            schema = self._lookup(str(reference))
        raise ValueError(f"$ref chain longer than {DEPTH_MAX}")

    def _lookup(self, reference: str) -> Schema:
        if not reference.startswith("#/"):
            raise ValueError(f"only local $ref are supported: {reference!r}")
        target: Any = self._root
        for part in reference[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        assert isinstance(target, Mapping), f"$ref {reference!r} does not point at a schema"
        return target

    def node(self, schema: Schema) -> _Node:
        schema = self.resolve(schema)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            return _merge([self.node(branch) for branch in branches])
        all_of = schema.get("allOf")
        if all_of:
            merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
            for part in all_of:
                merged.update(self.resolve(part))
            return self.node(merged)
        return _leaf(schema)


def _leaf(schema: Schema) -> _Node:
    raw_type = schema.get("type")
    if raw_type is None:
        types = frozenset({"object"}) if "properties" in schema else ANY_TYPE
    else:
        types = frozenset([raw_type] if isinstance(raw_type, str) else raw_type)
    enum: frozenset[Any] | None = None
    if "const" in schema:
        enum = frozenset([schema["const"]])
    elif "enum" in schema:
        enum = frozenset(schema["enum"])
    if enum is not None and None in enum:
        enum, types = enum - {None}, types | {"null"}
    constraint_names = (*_LOWER_BOUNDS, *_UPPER_BOUNDS, *_EXACT_CONSTRAINTS)
    additional = schema.get("additionalProperties")
    return _Node(
        types=types,
        formats=frozenset([schema["format"]]) if "format" in schema else frozenset(),
        enum=enum,
        constraints={name: schema[name] for name in constraint_names if name in schema},
        properties=dict(schema.get("properties", {})),
        required=frozenset(schema.get("required", ())),
        items=schema.get("items"),
        additional=additional if isinstance(additional, Mapping) else None,
    )


def _merge(nodes: list[_Node]) -> _Node:
    """Union of anyOf branches; a lossy but conservative view (e.g. `X | None`)."""
    valued = [node for node in nodes if node.types != frozenset({"null"})]
    enums = [node.enum for node in valued]
    enum: frozenset[Any] | None = None
    if valued and all(value is not None for value in enums):
        enum = frozenset().union(*(value for value in enums if value is not None))
    properties: dict[str, Schema] = {}
    required: frozenset[str] = frozenset()
    for node in valued:
        properties.update(node.properties)
        required |= node.required
    return _Node(
        types=frozenset().union(*(node.types for node in nodes)),
        formats=frozenset().union(*(node.formats for node in nodes)),
        enum=enum,
        constraints=valued[0].constraints if len(valued) == 1 else {},
        properties=properties,
        required=required,
        items=next((node.items for node in valued if node.items is not None), None),
        additional=next((node.additional for node in valued if node.additional is not None), None),
    )


def _compare(
    old_resolver: _Resolver,
    old_schema: Schema,
    new_resolver: _Resolver,
    new_schema: Schema,
    path: str,
    depth: int,
    changes: list[Change],
) -> None:
    if depth > DEPTH_MAX:
        raise ValueError(f"schema nesting deeper than {DEPTH_MAX} at {path}")
    old = old_resolver.node(old_schema)
    new = new_resolver.node(new_schema)
    if old.types != new.types:
        detail = f"type {sorted(old.types)} -> {sorted(new.types)}"
        changes.append(Change(path, "type_changed", detail))
        return  # everything below a changed type is noise
    if old.formats != new.formats:
        changes.append(Change(path, "format_changed", f"format {sorted(old.formats)} -> {sorted(new.formats)}"))
    _compare_enum(old, new, path, changes)
    _compare_constraints(old, new, path, changes)
    for name in sorted(old.properties.keys() - new.properties.keys()):
        changes.append(Change(f"{path}.{name}", "property_removed", "property removed (or renamed)"))
    for name in sorted(new.properties.keys() - old.properties.keys()):
        if name in new.required:
            changes.append(Change(f"{path}.{name}", "property_added_required", "new property is required"))
        else:
            changes.append(Change(f"{path}.{name}", "property_added_optional", "new optional property"))
    for name in sorted(old.properties.keys() & new.properties.keys()):
        child_path = f"{path}.{name}"
        if name in new.required and name not in old.required:
            changes.append(Change(child_path, "became_required", "optional property is now required"))
        if name in old.required and name not in new.required:
            changes.append(Change(child_path, "became_optional", "required property is now optional"))
        _compare(
            old_resolver,
            old.properties[name],
            new_resolver,
            new.properties[name],
            child_path,
            depth + 1,
            changes,
        )
    if old.items is not None and new.items is not None:
        _compare(old_resolver, old.items, new_resolver, new.items, f"{path}[]", depth + 1, changes)
    if old.additional is not None and new.additional is not None:
        _compare(old_resolver, old.additional, new_resolver, new.additional, f"{path}{{}}", depth + 1, changes)


def _compare_enum(old: _Node, new: _Node, path: str, changes: list[Change]) -> None:
    if old.enum == new.enum:
        return
    if new.enum is None:
        changes.append(Change(path, "enum_widened", "enum restriction removed"))
    elif old.enum is None:
        changes.append(Change(path, "enum_narrowed", f"now restricted to {sorted(map(repr, new.enum))}"))
    else:
        removed, added = old.enum - new.enum, new.enum - old.enum
        if removed:
            changes.append(Change(path, "enum_narrowed", f"values removed: {sorted(map(repr, removed))}"))
        if added:
            changes.append(Change(path, "enum_widened", f"values added: {sorted(map(repr, added))}"))


def _compare_constraints(old: _Node, new: _Node, path: str, changes: list[Change]) -> None:
    for name in sorted(old.constraints.keys() | new.constraints.keys()):
        before, after = old.constraints.get(name), new.constraints.get(name)
        if before == after:
            continue
        detail = f"{name} {before!r} -> {after!r}"
        if after is None:
            kind: ChangeKind = "constraint_relaxed"
        elif before is None and _is_amount_bound(new, name, after):
            kind = "amount_bound_added"
        elif before is None or name in _EXACT_CONSTRAINTS:
            kind = "constraint_tightened"
        elif name in _LOWER_BOUNDS:
            kind = "constraint_tightened" if after > before else "constraint_relaxed"
        else:
            kind = "constraint_tightened" if after < before else "constraint_relaxed"
        changes.append(Change(path, kind, detail))


def _is_amount_bound(node: _Node, name: str, value: Any) -> bool:
    """An integer newly bounded at +-AMOUNT_MINOR_MAX: a tightening, but not a breaking one.

    It narrows what a producer may send, yet no message either side can really hold falls outside
    it: 10^17 minor units is a quadrillion dollars in cents, every amount lands in a BIGINT ledger
    column that refuses more than AMOUNT_MINOR_MAX per movement, and our own producers were
    already held to it by `clearway.platform.money`. Any other new bound stays breaking.
    """
    if "integer" not in node.types or isinstance(value, bool):
        return False
    return (name, value) in {("maximum", AMOUNT_MINOR_MAX), ("minimum", -AMOUNT_MINOR_MAX)}
