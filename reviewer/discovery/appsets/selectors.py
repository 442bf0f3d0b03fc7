"""Label selectors of the ApplicationSet controller (ACD `applicationset/utils/selector.go`).

A `clusters` generator selects cluster secrets by their labels; a generator's post-`selector`
filters its parameter sets, seeing only their top-level string parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .failures import GeneratorFailure
from .parameters import go_format


@dataclass(frozen=True, slots=True)
class LabelSelector:
    match_labels: tuple[tuple[str, str], ...]
    expressions: tuple[tuple[str, str, tuple[str, ...]], ...]

    @classmethod
    def parse(cls, raw: Any) -> LabelSelector:
        if not isinstance(raw, Mapping):
            raise GeneratorFailure("a selector must be a mapping")
        labels = raw.get("matchLabels") or {}
        expressions = raw.get("matchExpressions") or []
        if not isinstance(labels, Mapping) or not isinstance(expressions, list):
            raise GeneratorFailure("selector.matchLabels must be a mapping and matchExpressions a list")
        parsed = []
        for expr in expressions:
            if not isinstance(expr, Mapping):
                raise GeneratorFailure("selector.matchExpressions entries must be mappings")
            operator = expr.get("operator")
            values = tuple(str(v) for v in (expr.get("values") or []))
            if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
                raise GeneratorFailure(f"error parsing label selector: {operator!r} is not a valid selector operator")
            if operator in ("In", "NotIn") and not values:
                raise GeneratorFailure(
                    "error parsing label selector: for 'in', 'notin' operators, values set can't be empty"
                )
            parsed.append((str(expr.get("key")), str(operator), values))
        return cls(tuple((str(k), go_format(v)) for k, v in labels.items()), tuple(parsed))

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        for key, operator, values in self.expressions:
            present = key in labels
            if operator == "In" and not (present and labels[key] in values):
                return False
            if operator == "NotIn" and present and labels[key] in values:
                return False
            if operator == "Exists" and not present:
                return False
            if operator == "DoesNotExist" and present:
                return False
        return True


def string_values(params: Mapping[str, Any]) -> dict[str, str]:
    """ACD keepOnlyStringValues: the post-selector sees top-level string parameters only."""
    return {k: v for k, v in params.items() if isinstance(v, str)}
