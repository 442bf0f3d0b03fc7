"""The immutable-field table: which fields of which kinds the API server refuses to change, and the
matching of a change's deltas against it (used by the `immutable-field` rule).

Three sources, in this order: the shipped data file `immutable_fields.yaml` (its header documents the
format), the config's `rules.options.immutable-field.fields`, and the CustomResourceDefinitions in the
renders whose OpenAPI schema marks a field with the transition rule `self == oldSelf`
(`x-kubernetes-validations`, kubebuilder's `XValidation:rule="self == oldSelf"`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from operator import attrgetter
from typing import Any

from ..diff.quantities import parse as parse_quantity
from ..records import Change, FieldDelta, Resource
from ..yamlio import load_yaml
from .field_patterns import (
    AnyItem,
    AnyKey,
    Key,
    PathError,
    Pattern,
    format_pattern,
    is_above,
    is_near,
    is_under,
    parse_path,
    values_at,
    without,
)

DATA_FILE = "immutable_fields.yaml"
CRD_GROUP, CRD_KIND = "apiextensions.k8s.io", "CustomResourceDefinition"
COMPARES = ("value", "first-item", "decrease")

_MISSING: Any = object()
_PRESENT: Any = object()  # the field exists, its value is not at hand (a delta below it changed)


def _headless(body: Mapping[str, Any]) -> bool:
    spec = body.get("spec")
    if not isinstance(spec, Mapping):
        return False
    ips = spec.get("clusterIPs")
    return spec.get("clusterIP") == "None" or (isinstance(ips, list) and ips[:1] == ["None"])


def _service_type(body: Mapping[str, Any]) -> str:
    spec = body.get("spec")
    return str(spec.get("type") or "ClusterIP") if isinstance(spec, Mapping) else "ClusterIP"


def _local_lb(body: Mapping[str, Any]) -> bool:
    spec = body.get("spec")
    policy = spec.get("externalTrafficPolicy") if isinstance(spec, Mapping) else None
    return _service_type(body) == "LoadBalancer" and policy == "Local"


def _elastic_indexed(base: Mapping[str, Any], head: Mapping[str, Any]) -> bool:
    """K8S batch validateCompletions: an Indexed Job may change completions in tandem with parallelism
    (ElasticIndexedJob, on by default since 1.27), never to nil."""
    old, new = base.get("spec"), head.get("spec")
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return False
    indexed = old.get("completionMode") == "Indexed" and new.get("completionMode") == "Indexed"
    return indexed and new.get("completions") is not None and new.get("completions") == new.get("parallelism")


BodyCondition = Callable[[Mapping[str, Any], Mapping[str, Any]], bool]

# Conditions on the two bodies (base, head).
BODY_CONDITIONS: dict[str, BodyCondition] = {
    "base-immutable": lambda base, head: base.get("immutable") is True,
    "not-external-name": lambda base, head: "ExternalName" not in (_service_type(base), _service_type(head)),
    "not-both-headless": lambda base, head: not (_headless(base) and _headless(head)),
    "not-headless": lambda base, head: not (_headless(base) or _headless(head)),
    "load-balancer": lambda base, head: _service_type(base) == _service_type(head) == "LoadBalancer",
    "local-health-check": lambda base, head: _local_lb(base) and _local_lb(head),
    "not-elastic-indexed": lambda base, head: not _elastic_indexed(base, head),
}


def _empty(value: Any) -> bool:
    return value is _MISSING or value is None or value in ("", [], {})


# Conditions on the field's own value at base and head (_MISSING when absent).
VALUE_CONDITIONS: dict[str, Callable[[Any, Any], bool]] = {
    "present-before": lambda before, after: before is not _MISSING,
    "present-after": lambda before, after: after is not _MISSING,
    "set-before": lambda before, after: not _empty(before),
    "set-after": lambda before, after: not _empty(after),
}
CONDITIONS = frozenset(BODY_CONDITIONS) | frozenset(VALUE_CONDITIONS)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One immutable field of one kind (`group`/`kind` may be `*`)."""

    group: str
    kind: str
    path: Pattern
    excepts: tuple[Pattern, ...] = ()  # relative to `path`
    when: tuple[str, ...] = ()
    compare: str = "value"
    message: str = "field is immutable"
    note: str = ""
    origin: str = "built-in"
    version: str = ""  # only objects of this API version (CRD schemas are per version); "" for any

    @property
    def text(self) -> str:
        return format_pattern(self.path)

    def applies_to(self, group: str, kind: str, api_version: str) -> bool:
        version = api_version.rpartition("/")[2]
        return self.group in ("*", group) and self.kind in ("*", kind) and (not self.version or self.version == version)


@dataclass(frozen=True, slots=True)
class KindFacts:
    """What the API server does to omitted or dropped fields of a kind."""

    group: str
    kind: str
    defaults: tuple[tuple[Pattern, Any], ...] = ()  # an omitted field reads as this value
    ignore: tuple[Pattern, ...] = ()  # fields the API server drops: never a change


@dataclass(frozen=True, slots=True)
class ImmutableTable:
    """Field rules and kind facts, with the rules and facts of each kind looked up once."""

    rules: tuple[FieldRule, ...] = ()
    facts: tuple[KindFacts, ...] = ()
    # (group, kind, apiVersion) -> its rules: a review checks thousands of changes of a few kinds.
    _by_kind: dict[tuple[str, str, str], tuple[FieldRule, ...]] = field(default_factory=dict, compare=False, repr=False)
    _facts: dict[tuple[str, str], tuple[KindFacts, ...]] = field(default_factory=dict, compare=False, repr=False)

    def rules_for(self, resource: Resource) -> list[FieldRule]:
        key = resource.key
        wanted = (key.group, key.kind, resource.api_version)
        found = self._by_kind.get(wanted)
        if found is None:
            found = self._by_kind[wanted] = tuple(r for r in self.rules if r.applies_to(*wanted))
        return list(found)

    def facts_for(self, group: str, kind: str) -> list[KindFacts]:
        found = self._facts.get((group, kind))
        if found is None:
            found = self._facts[(group, kind)] = tuple(
                f for f in self.facts if f.group in ("*", group) and f.kind in ("*", kind)
            )
        return list(found)

    def __add__(self, other: ImmutableTable) -> ImmutableTable:
        return ImmutableTable(self.rules + other.rules, self.facts + other.facts)


# --- reading entries -------------------------------------------------------------------------------


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of strings")
    return tuple(value)


def _pattern(text: Any, where: str) -> Pattern:
    if not isinstance(text, str):
        raise ValueError(f"{where} must be a string field path")
    try:
        return parse_path(text, pattern=True)
    except PathError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _field_rule(group: str, kind: str, raw: Mapping[str, Any], path: Pattern, where: str, origin: str) -> FieldRule:
    when = _strings(raw.get("when"), f"{where}.when")
    unknown = sorted(set(when) - CONDITIONS)
    if unknown:
        known = ", ".join(sorted(CONDITIONS))
        raise ValueError(f"{where}.when: unknown condition(s) {', '.join(unknown)} (known: {known})")
    compare = str(raw.get("compare") or "value")
    if compare not in COMPARES:
        raise ValueError(f"{where}.compare must be one of {', '.join(COMPARES)}")
    excepts = tuple(_pattern(e, f"{where}.except") for e in _strings(raw.get("except"), f"{where}.except"))
    return FieldRule(
        group=group,
        kind=kind,
        path=path,
        excepts=excepts,
        when=when,
        compare=compare,
        message=str(raw.get("message") or "field is immutable"),
        note=str(raw.get("note") or ""),
        origin=origin,
    )


def parse_entries(data: Any, origin: str) -> ImmutableTable:
    """A table from entries `{group, kind, fields: [{path, except, when, compare, message, note}],
    defaults, ignore}`; the config's form `{group, kind, paths: [...], ...}` is read too."""
    if not isinstance(data, list):
        raise ValueError(f"{origin}: the immutable-field table must be a list of entries")
    rules: list[FieldRule] = []
    facts: list[KindFacts] = []
    for i, entry in enumerate(data):
        where = f"{origin}[{i}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("kind"), str) or not entry["kind"]:
            raise ValueError(f'{where} needs a `kind` (and a `group`, "" for the core group)')
        group, kind = str(entry.get("group") or ""), str(entry["kind"])
        for j, raw in enumerate(entry.get("fields") or []):
            if not isinstance(raw, Mapping):
                raise ValueError(f"{where}.fields[{j}] must be a mapping")
            path = _pattern(raw.get("path"), f"{where}.fields[{j}].path")
            rules.append(_field_rule(group, kind, raw, path, f"{where}.fields[{j}]", origin))
        for j, text in enumerate(_strings(entry.get("paths"), f"{where}.paths")):
            rules.append(_field_rule(group, kind, entry, _pattern(text, f"{where}.paths[{j}]"), where, origin))
        defaults = entry.get("defaults") or {}
        if not isinstance(defaults, Mapping):
            raise ValueError(f"{where}.defaults must map field paths to values")
        ignore = _strings(entry.get("ignore"), f"{where}.ignore")
        if defaults or ignore:
            facts.append(
                KindFacts(
                    group,
                    kind,
                    tuple((_pattern(p, f"{where}.defaults"), v) for p, v in defaults.items()),
                    tuple(_pattern(p, f"{where}.ignore") for p in ignore),
                )
            )
    return ImmutableTable(tuple(rules), tuple(facts))


@cache
def builtin_table() -> ImmutableTable:
    """The shipped table (package data, read once)."""
    text = resources.files(__package__).joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_entries(load_yaml(text, file=DATA_FILE), DATA_FILE)  # the C loader: ~20x faster


def config_table(options: Mapping[str, Any]) -> ImmutableTable:
    """`rules.options.immutable-field.fields: [{group, kind, paths: [...]}]` (also `when`, `except`,
    `compare`, `message`, `note`, as in the data file)."""
    fields = options.get("fields")
    if fields is None:
        return ImmutableTable()
    return parse_entries(fields, "rules.options.immutable-field.fields")


# --- CRDs: fields with the transition rule `self == oldSelf` --------------------------------------

_SPACE = re.compile(r"\s+")
_IMMUTABLE_RULES = frozenset({"self==oldSelf", "oldSelf==self"})


def _schema_rules(schema: Any, path: Pattern, out: list[tuple[Pattern, str]]) -> None:
    if not isinstance(schema, Mapping):
        return
    for validation in schema.get("x-kubernetes-validations") or []:
        if not isinstance(validation, Mapping) or not isinstance(validation.get("rule"), str):
            continue
        if path and _SPACE.sub("", validation["rule"]) in _IMMUTABLE_RULES:
            out.append((path, str(validation.get("message") or f"failed rule: {validation['rule']}")))
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            _schema_rules(sub, (*path, Key(str(name))), out)
    _schema_rules(schema.get("items"), (*path, AnyItem()), out)
    _schema_rules(schema.get("additionalProperties"), (*path, AnyKey()), out)


def crd_table(crds: Iterable[Resource]) -> ImmutableTable:
    """Entries from CRDs whose schema marks fields `self == oldSelf`. A transition rule runs only when
    the field exists on both the old and the new object, hence `present-before` and `present-after`.
    A rule at the schema's root (the whole object) is not taken: it would freeze metadata too."""
    rules: dict[tuple[str, str, str, Pattern], FieldRule] = {}
    for crd in crds:
        spec = crd.body.get("spec")
        names = spec.get("names") if isinstance(spec, Mapping) else None
        if not isinstance(spec, Mapping) or not isinstance(names, Mapping):
            continue
        group, kind = str(spec.get("group") or ""), str(names.get("kind") or "")
        for version in spec.get("versions") or []:
            if not isinstance(version, Mapping):
                continue
            schema = version.get("schema")
            found: list[tuple[Pattern, str]] = []
            _schema_rules(schema.get("openAPIV3Schema") if isinstance(schema, Mapping) else None, (), found)
            for path, message in found:
                rules[(group, kind, str(version.get("name") or ""), path)] = FieldRule(
                    group=group,
                    kind=kind,
                    path=path,
                    when=("present-before", "present-after"),
                    message=message,
                    origin=f"CRD {crd.key.name} (x-kubernetes-validations: self == oldSelf)",
                    version=str(version.get("name") or ""),
                )
    return ImmutableTable(tuple(rules.values()))


_KIND_OF = attrgetter("key.kind")


def crds_of(renders: Iterable[Iterable[Resource]]) -> Iterator[Resource]:
    """The CustomResourceDefinitions among the rendered resources, in order. Every rendered resource
    passes here, so each render's kinds are read in C (`map` of an attrgetter) and searched in C; only a
    render that has a CRD is walked in Python."""
    for resources_ in renders:
        resources_ = resources_ if isinstance(resources_, Sequence) else tuple(resources_)
        kinds = list(map(_KIND_OF, resources_))
        if CRD_KIND not in kinds:
            continue
        for resource, kind in zip(resources_, kinds, strict=True):
            if kind == CRD_KIND and resource.key.group == CRD_GROUP:
                yield resource


# --- matching a change against the table ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Violation:
    """A field rule that a change breaks, and the deltas that break it."""

    rule: FieldRule
    deltas: tuple[FieldDelta, ...]


def _parsed(delta: FieldDelta) -> Pattern | None:
    try:
        return parse_path(delta.path)
    except PathError:
        return None


def _noise(delta: FieldDelta, path: Pattern, facts: Sequence[KindFacts]) -> bool:
    """A delta the API server never sees: a dropped field, or a default written out or left out."""
    for fact in facts:
        if any(is_under(path, p) for p in fact.ignore):
            return True
        for pattern, default in fact.defaults:
            if len(pattern) == len(path) and is_under(path, pattern):
                present = delta.after if delta.kind == "added" else delta.before if delta.kind == "removed" else None
                if delta.kind in ("added", "removed") and present == default:
                    return True
    return False


def _pruned(value: Any) -> Any:
    """Empty maps and lists left after removing the excepted fields count as nothing."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        kept = {k: v for k, v in kept.items() if v is not None}
        return kept or None
    if isinstance(value, list):
        return [_pruned(v) for v in value] or None
    return value


def _field_values(delta: FieldDelta, path: Pattern, rule: FieldRule) -> tuple[Any, Any] | None:
    """The rule's field at base and head as far as the delta shows it (_MISSING when absent), or None
    when the delta does not change the field (outside it, or only in its excepted parts)."""
    excepts = [(*rule.path, *e) for e in rule.excepts]
    if is_under(path, rule.path):
        if any(is_under(path, e) for e in excepts):
            return None
        inner = [e[len(path) :] for e in excepts if is_above(path, e)]
        if inner and delta.kind != "reordered":
            old = _pruned(without(delta.before, inner)) if delta.kind != "added" else None
            new = _pruned(without(delta.after, inner)) if delta.kind != "removed" else None
            if old == new:
                return None
        if len(path) > len(rule.path):
            return _PRESENT, _PRESENT
        before = _MISSING if delta.kind == "added" else delta.before
        after = _MISSING if delta.kind == "removed" else delta.after
        return before, after
    if is_above(path, rule.path) and delta.kind != "reordered":
        rest = rule.path[len(path) :]
        old_values = values_at(delta.before, rest) if delta.kind != "added" else []
        new_values = values_at(delta.after, rest) if delta.kind != "removed" else []
        if [_pruned(without(v, rule.excepts)) for v in old_values] == [
            _pruned(without(v, rule.excepts)) for v in new_values
        ]:
            return None
        return (old_values[0] if old_values else _MISSING), (new_values[0] if new_values else _MISSING)
    return None


def _body_value(body: Mapping[str, Any], path: Pattern) -> Any:
    found = values_at(body, path)
    return found[0] if found else _MISSING


def _compare_holds(rule: FieldRule, base: Mapping[str, Any], head: Mapping[str, Any]) -> bool:
    if rule.compare == "first-item":
        old, new = _body_value(base, rule.path), _body_value(head, rule.path)
        return isinstance(old, list) and isinstance(new, list) and bool(old) and bool(new) and old[0] != new[0]
    if rule.compare == "decrease":
        old, new = parse_quantity(_body_value(base, rule.path)), parse_quantity(_body_value(head, rule.path))
        return old is not None and new is not None and new < old  # parse_quantity: a Decimal or None
    return True


def violations(change: Change, table: ImmutableTable, *, skip_ignored: bool) -> list[Violation]:
    """The field rules a modified (or moved) resource breaks. `skip_ignored`: deltas covered by
    ignoreDifferences are not applied (RespectIgnoreDifferences=true), so they break nothing."""
    if change.base is None or change.head is None:
        return []
    base, head = change.base.body, change.head.body
    facts = table.facts_for(change.key.group, change.key.kind)
    deltas: list[tuple[FieldDelta, Pattern]] = []
    for delta in change.deltas:
        if skip_ignored and delta.ignored:
            continue
        path = _parsed(delta)
        if path is not None and not _noise(delta, path, facts):
            deltas.append((delta, path))
    found: list[Violation] = []
    for rule in table.rules_for(change.head):
        # Only a delta at, below or above the rule's field can break it (_field_values is None for the
        # others): most changes touch no immutable field, and then no condition needs to be read.
        near = [(d, p) for d, p in deltas if is_near(p, rule.path)]
        if not near:
            continue
        if not all(BODY_CONDITIONS[c](base, head) for c in rule.when if c in BODY_CONDITIONS):
            continue
        value_conditions = [VALUE_CONDITIONS[c] for c in rule.when if c in VALUE_CONDITIONS]
        hits = []
        for delta, path in near:
            values = _field_values(delta, path, rule)
            if values is not None and all(check(*values) for check in value_conditions):
                hits.append(delta)
        if hits and _compare_holds(rule, base, head):
            found.append(Violation(rule, tuple(hits)))
    return found
