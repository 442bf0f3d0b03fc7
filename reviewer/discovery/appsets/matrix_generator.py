"""The `matrix` generator (ACD `applicationset/generators/matrix.go`): two children, every combination.

When the second child's spec is templated it is rendered with each parameter set of the first
(InterpolateGenerator). Combined sets merge with the first child winning under `goTemplate`;
without it a key present in both with different values is an error (`utils.CombineStringMaps`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from .failures import GeneratorFailure
from .generation import Generation
from .mergo import merge_override
from .parameters import go_format
from .templates import has_template


def generate(spec: Mapping[str, Any], generation: Generation, level: int) -> list[dict[str, Any]]:
    children = generation.nested_children(spec, level, "matrix")
    if len(children) < 2:
        raise GeneratorFailure("found less than two generators, Matrix support only two")
    if len(children) > 2:
        raise GeneratorFailure("found more than two generators, Matrix support only two")
    first = generation.child_params(children[0], None, level + 1)
    if not first:
        return []
    second_spec = children[1]
    if isinstance(second_spec, Mapping) and has_template(second_spec):
        # ACD InterpolateGenerator: the second generator is rendered with each parameter set of
        # the first (not for an empty one); all of them in one render.
        with_params = [a for a in first if a]
        rendered = iter(
            generation.engine.render_tree_many(second_spec, with_params, what="the second matrix generator")
        )
        specs = [next(rendered) if a else second_spec for a in first]
        seconds = [generation.child_params(spec_for_a, None, level + 1) for spec_for_a in specs]
    else:
        shared = generation.child_params(second_spec, None, level + 1)
        seconds = [shared] * len(first)
    result: list[dict[str, Any]] = []
    for a, second in zip(first, seconds, strict=True):
        for b in second:
            if generation.go_template:
                combined: dict[str, Any] = {}
                merge_override(combined, copy.deepcopy(b))
                merge_override(combined, copy.deepcopy(a))  # the first generator wins
                result.append(combined)
            else:
                result.append(_combine_string_maps(a, b))
    return result


def _combine_string_maps(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """ACD utils.CombineStringMaps: a key in both with different values is an error."""
    out = {k: go_format(v) for k, v in a.items()}
    for key, value in b.items():
        text = go_format(value)
        if key in out and out[key] != text:
            raise GeneratorFailure(f"found duplicate key {key} with different value, a: {out[key]} ,b: {text}")
        out[key] = text
    return out
