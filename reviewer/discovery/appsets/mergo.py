"""github.com/imdario/mergo as the ApplicationSet controller calls it.

With override it combines parameter sets (matrix, merge); without, it fills a generator's own
`template` from `spec.template`. Both treat Go zero values (`""`, `0`, `false`, nil, empty
collections) as empty.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any


def merge_override(dst: dict[str, Any], src: Mapping[str, Any]) -> None:
    """mergo.Merge(&dst, src, mergo.WithOverride) on parameter maps.

    Nested maps merge, everything else is replaced by the source.
    """
    for key, value in src.items():
        current = dst.get(key)
        if isinstance(value, Mapping):
            if isinstance(current, dict) and current:
                merge_override(current, value)
                continue
            if current not in (None, "", 0, False) and not isinstance(current, (dict, list)):
                continue  # mergo keeps a non-empty non-map destination when the source is a map
            dst[key] = dict(value)
        else:
            dst[key] = value


def fill_empty(dest: dict[str, Any], src: Mapping[str, Any]) -> dict[str, Any]:
    """mergo.Merge(dest, src) without override.

    The generator's template wins; its empty or missing fields come from spec.template.
    """
    for key, value in src.items():
        current = dest.get(key)
        if is_empty(current):
            dest[key] = copy.deepcopy(value)
        elif isinstance(current, dict) and isinstance(value, Mapping):
            fill_empty(current, value)
    return dest


def is_empty(value: Any) -> bool:
    """A Go zero value, as mergo's isEmptyValue sees a decoded JSON/YAML value."""
    return value is None or value is False or value == "" or value == 0 or value == [] or value == {}
