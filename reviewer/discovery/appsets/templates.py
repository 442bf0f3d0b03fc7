"""Rendering the strings of an ApplicationSet's templates with its template engine.

Argo CD renders every string of a template on its own, map keys included (ACD
`applicationset/utils/utils.go`, `Render`: a reflection walk over the Application, for fasttemplate
as well: current Argo CD no longer renders the marshalled JSON text at once). Here a tree's strings
are collected, rendered in one batch, and put back in the same order. The engine is fasttemplate
by default, Go text/template + sprig with `goTemplate: true` (see `gotemplate.py`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .failures import GeneratorFailure
from .gotemplate import GoTemplateError, TemplateJob, render_go_templates


@dataclass(frozen=True, slots=True)
class Failed:
    """A string that could not be rendered."""

    message: str


@dataclass(frozen=True, slots=True)
class TemplateEngine:
    """The engine an ApplicationSet chose: `spec.goTemplate` and `goTemplateOptions`."""

    go_template: bool
    missingkey_error: bool

    def render_strings(self, jobs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[str | Failed]:
        """Render each (text, params) with the AppSet's template engine."""
        if self.go_template:
            rendered = render_go_templates(
                [TemplateJob(text, params) for text, params in jobs], missingkey_error=self.missingkey_error
            )
            return [Failed(str(r)) if isinstance(r, GoTemplateError) else r for r in rendered]
        out: list[str | Failed] = []
        for text, params in jobs:
            try:
                out.append(fasttemplate(text, params))
            except ValueError as exc:
                out.append(Failed(str(exc)))
        return out

    def render_tree_many(
        self, tree: Mapping[str, Any], params_list: Sequence[Mapping[str, Any]], *, what: str
    ) -> list[dict[str, Any]]:
        """`tree` with every string (map keys included) rendered, once per parameter set."""
        strings: list[str] = []
        collect_strings(tree, strings)
        rendered = self.render_strings([(s, params) for params in params_list for s in strings])
        out: list[dict[str, Any]] = []
        for index in range(len(params_list)):
            chunk = rendered[index * len(strings) : (index + 1) * len(strings)]
            for text in chunk:
                if isinstance(text, Failed):
                    raise GeneratorFailure(f"failed to replace parameters in {what}: {text.message}")
            rebuilt = rebuild(tree, iter([str(t) for t in chunk]))
            assert isinstance(rebuilt, dict)
            out.append(rebuilt)
        return out


def collect_strings(value: Any, out: list[str]) -> None:
    """Every string of a tree, map keys included, in the order `rebuild` consumes them."""
    if isinstance(value, str):
        out.append(value)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str):
                out.append(key)
            collect_strings(item, out)
    elif isinstance(value, list):
        for item in value:
            collect_strings(item, out)


def rebuild(value: Any, strings: Iterator[str]) -> Any:
    """`value` with its strings replaced, in `collect_strings` order, by those of `strings`."""
    if isinstance(value, str):
        return next(strings)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            new_key = next(strings) if isinstance(key, str) else key
            out[new_key] = rebuild(item, strings)
        return out
    if isinstance(value, list):
        return [rebuild(item, strings) for item in value]
    return value


def has_template(value: Any) -> bool:
    """Whether any string of a tree, map keys included, holds a `{{`."""
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, Mapping):
        return any(has_template(k) or has_template(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_template(v) for v in value)
    return False


_IS_TEMPLATED = re.compile(r".*\{\{.*\}\}.*")


def fasttemplate(text: str, params: Mapping[str, Any]) -> str:
    """Argo CD's default templating (ACD `utils.go` Replace with github.com/valyala/fasttemplate).

    `{{name}}` or `{{ name }}` is replaced by the string parameter `name`; a tag naming no string
    parameter is left as it is. A `{{` without a closing `}}` is an error.
    """
    if not _IS_TEMPLATED.search(text):
        return text
    out: list[str] = []
    rest = text
    while True:
        start = rest.find("{{")
        if start < 0:
            out.append(rest)
            return "".join(out)
        out.append(rest[:start])
        rest = rest[start + 2 :]
        end = rest.find("}}")
        if end < 0:
            raise ValueError(f'invalid template {text!r}: cannot find end tag "}}}}"')
        tag, rest = rest[:end], rest[end + 2 :]
        replacement = params.get(tag.strip())
        out.append(replacement if tag.strip() and isinstance(replacement, str) else "{{" + tag + "}}")
