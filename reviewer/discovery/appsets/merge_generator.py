"""The `merge` generator (ACD `applicationset/generators/merge.go`): the first child's parameter sets,
overridden by the sets of later children that agree on every `mergeKeys` value.

Argo CD iterates a Go map here (random order); the output keeps the first child's order.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from .failures import GeneratorFailure
from .generation import Generation
from .mergo import merge_override
from .parameters import go_format


def generate(spec: Mapping[str, Any], generation: Generation, level: int) -> list[dict[str, Any]]:
    children = generation.nested_children(spec, level, "merge")
    if len(children) < 2:
        raise GeneratorFailure("found less than two generators, Merge requires two or more")
    merge_keys = spec.get("mergeKeys")
    if not isinstance(merge_keys, list) or not merge_keys:
        raise GeneratorFailure("no merge keys were specified, Merge requires at least one")
    keys = sorted({str(k) for k in merge_keys})
    sets = [generation.child_params(child, None, level + 1) for child in children]
    base = _by_merge_key(keys, sets[0])
    for other in sets[1:]:
        overrides = _by_merge_key(keys, other)
        for key, base_params in list(base.items()):
            override = overrides.get(key)
            if override is None:
                continue
            if generation.go_template:
                merge_override(base_params, copy.deepcopy(override))
            else:
                merged = {k: go_format(v) for k, v in base_params.items()}
                merged.update({k: go_format(v) for k, v in override.items()})
                base[key] = merged
    return list(base.values())


def _by_merge_key(keys: list[str], param_sets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for params in param_sets:
        key = json.dumps({k: _json_number(params.get(k)) for k in keys}, sort_keys=True, separators=(",", ":"))
        if key in out:
            raise GeneratorFailure(
                "the parameters from a generator were not unique by the given mergeKeys, Merge requires all "
                f"param sets to be unique. Duplicate key was {key}"
            )
        out[key] = params
    return out


def _json_number(value: Any) -> Any:
    # Go holds every JSON number as float64: 2 and 2.0 are the same merge key.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
