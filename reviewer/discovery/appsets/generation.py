"""What every generator shares: ACD `generators.Transform` and the services a generator may call.

A generator family is a module with a `generate(spec, generation, level)` function satisfying
`Generator`; the expander registers them in one dict. `Generation` runs one `generators` entry:
it refuses generators that need a live system, merges each generator's own `template` over
`spec.template`, calls the generator and applies the entry's post-`selector`
(`generator_spec_processor.go`). Matrix and merge call back into it for their children.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ...config import Cluster
from .failures import GeneratorFailure, NotOffline
from .mergo import fill_empty
from .selectors import LabelSelector, string_values
from .templates import Failed, TemplateEngine
from .tree_listing import TreeListing

# Generators that read a live system at reconcile time, and why they cannot be expanded here.
LIVE_GENERATORS = {
    "scmProvider": "it lists repositories from an SCM provider's API at reconcile time",
    "pullRequest": "it lists open pull requests from an SCM provider's API at reconcile time",
    "clusterDecisionResource": "it reads a decision resource from the live cluster at reconcile time",
    "plugin": "it asks an external generator plugin service at reconcile time",
}


class Generator(Protocol):
    """One generator family: the parameter sets of its `spec` (ACD GenerateParams)."""

    def __call__(self, spec: Mapping[str, Any], generation: Generation, level: int) -> list[dict[str, Any]]: ...


@dataclass(slots=True)
class Transformed:
    """ACD `generators.TransformResult`: the parameter sets of one generator and its merged template."""

    params: list[dict[str, Any]]
    template: dict[str, Any]


class Generation:
    """The generators of one ApplicationSet at work, with what they may read."""

    def __init__(
        self,
        *,
        generators: Mapping[str, Generator],
        engine: TemplateEngine,
        clusters: tuple[Cluster, ...],
        is_this_repo: Callable[[str], bool],
        tree: TreeListing,
        apply_nested_selectors: bool,
    ) -> None:
        self.generators = generators
        self.engine = engine
        self.clusters = clusters
        self.is_this_repo = is_this_repo
        self.tree = tree
        self.apply_nested_selectors = apply_nested_selectors

    @property
    def go_template(self) -> bool:
        return self.engine.go_template

    def transform(
        self,
        entry: Any,
        base_template: Mapping[str, Any],
        interpolate: Mapping[str, Any] | None,
        *,
        level: int,
    ) -> list[Transformed]:
        """Parameter sets and merged template of each generator set in one `generators` entry."""
        if not isinstance(entry, Mapping):
            raise GeneratorFailure("a generator must be a mapping")
        if interpolate:
            # ACD InterpolateGenerator: the matrix's second generator is rendered with the first's params.
            entry = self.engine.render_tree_many(entry, [interpolate], what="the generator")[0]
        selector = LabelSelector.parse(entry.get("selector")) if entry.get("selector") is not None else None
        kinds = [key for key in entry if key != "selector"]
        for kind in kinds:
            if kind not in self.generators:
                reason = LIVE_GENERATORS.get(kind)
                raise NotOffline(
                    kind,
                    f"the {kind} generator cannot be expanded offline: {reason}"
                    if reason
                    else f"{kind!r} is not a generator the ApplicationSet controller knows; it generates nothing",
                )
        results = []
        for kind in kinds:
            spec = entry[kind]
            if not isinstance(spec, Mapping):
                raise GeneratorFailure(f"the {kind} generator must be a mapping")
            own_template = spec.get("template")
            own = copy.deepcopy(dict(own_template)) if isinstance(own_template, Mapping) else {}
            merged = fill_empty(own, base_template)
            params = self.generators[kind](spec, self, level)
            if selector is not None:
                params = [p for p in params if selector.matches(string_values(p))]
            results.append(Transformed(params, merged))
        return results

    def child_params(self, child: Any, interpolate: Mapping[str, Any] | None, level: int) -> list[dict[str, Any]]:
        """ACD Matrix/MergeGenerator.getParams: the parameter sets of one child generator."""
        if isinstance(child, Mapping) and level >= 2 and any(k in child for k in ("matrix", "merge")):
            raise GeneratorFailure("matrix and merge generators can be nested only one level deep")
        results = self.transform(child, {}, interpolate, level=level)
        if not results:
            raise GeneratorFailure("child generator generated no parameters")
        if len(results) > 1:
            raise GeneratorFailure("found more than one generator in matrix.Generators")
        return results[0].params

    def nested_children(self, spec: Mapping[str, Any], level: int, what: str) -> list[Any]:
        """The child generators of a matrix or merge."""
        children = spec.get("generators")
        if not isinstance(children, list):
            raise GeneratorFailure(f"{what}.generators must be a list")
        if level >= 1 and not self.apply_nested_selectors:
            # ACD dropDisabledNestedSelectors: selectors of a nested matrix/merge's children are
            # ignored unless spec.applyNestedSelectors is set.
            children = [
                {k: v for k, v in c.items() if k != "selector"} if isinstance(c, Mapping) else c for c in children
            ]
        return children

    def append_values(self, values: Any, params_list: list[dict[str, Any]], kind: str) -> None:
        """A generator's `values`, rendered with each parameter set and added to it.

        ACD `applicationset/generators/value_interpolation.go`.
        """
        if not values:
            return
        if not isinstance(values, Mapping) or not all(isinstance(v, str) for v in values.values()):
            raise GeneratorFailure(f"{kind}.values must map names to strings")
        keys = [str(k) for k in values]
        jobs = [(str(values[k]), params) for params in params_list for k in keys]
        rendered = self.engine.render_strings(jobs)
        for index, params in enumerate(params_list):
            out: dict[str, str] = {}
            for offset, key in enumerate(keys):
                text = rendered[index * len(keys) + offset]
                if isinstance(text, Failed):
                    raise GeneratorFailure(f"failed to append templated values: {text.message}")
                out[key] = text
            if self.go_template:
                params["values"] = out
            else:
                params.update({f"values.{k}": v for k, v in out.items()})
