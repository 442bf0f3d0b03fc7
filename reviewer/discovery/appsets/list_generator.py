"""The `list` generator (ACD `applicationset/generators/list.go`): one parameter set per element.

Without `goTemplate` every element value must be a string (a `values` map becomes `values.<key>`);
with it, elements are passed as they are. `elementsYaml` appends the elements of a YAML list.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ...errors import ManifestError
from ...yamlio import load_yaml_stream
from .failures import GeneratorFailure
from .generation import Generation


def generate(spec: Mapping[str, Any], generation: Generation, level: int) -> list[dict[str, Any]]:
    elements = spec.get("elements") or []
    if not isinstance(elements, list):
        raise GeneratorFailure("list.elements must be a list")
    result: list[dict[str, Any]] = []
    for number, element in enumerate(elements, start=1):
        if not isinstance(element, Mapping):
            raise GeneratorFailure(f"error unmarshalling list element {number}: it is not an object")
        if generation.go_template:
            result.append(copy.deepcopy(dict(element)))
            continue
        params: dict[str, Any] = {}
        for key, value in element.items():
            if key == "values":
                if not isinstance(value, Mapping):
                    raise GeneratorFailure(f"list element {number}: error parsing values map")
                for sub, sub_value in value.items():
                    if not isinstance(sub_value, str):
                        raise GeneratorFailure(
                            f"list element {number}: values.{sub} is not a string "
                            "(without goTemplate every list value must be a string)"
                        )
                    params[f"values.{sub}"] = sub_value
            elif not isinstance(value, str):
                raise GeneratorFailure(
                    f"list element {number}: {key} is not a string "
                    "(without goTemplate every list value must be a string)"
                )
            else:
                params[str(key)] = value
        result.append(params)
    elements_yaml = spec.get("elementsYaml")
    if elements_yaml:
        if not isinstance(elements_yaml, str):
            raise GeneratorFailure("list.elementsYaml must be a string")
        try:
            docs = load_yaml_stream(elements_yaml, file="elementsYaml")
        except ManifestError as exc:
            raise GeneratorFailure(f"error unmarshalling elementsYaml: {exc}") from None
        items = docs[0].data if docs else []
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise GeneratorFailure("error unmarshalling elementsYaml: it is not a list of objects")
        result.extend(copy.deepcopy(dict(i)) for i in items)
    return result
