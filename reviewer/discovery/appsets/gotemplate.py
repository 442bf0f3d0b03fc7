"""Go text/template + sprig rendering for ApplicationSets, through the in-process Helm SDK.

Argo CD renders an ApplicationSet with `goTemplate: true` by executing every string field of the
template as its own Go text/template with the sprig functions (ACD `applicationset/utils/utils.go`,
`Render.Replace`). Helm's template engine is the same Go text/template with the same sprig library,
so instead of reimplementing Go templates we render through Helm: every string becomes a named
template (`define`) of a throw-away chart, invoked once per parameter set with
`{{template "name" .Values.pN}}`. Invoking a named template binds both `.` and `$` to the parameter
map, exactly as `template.Execute(buf, params)` does in Argo CD. All strings of one call go into one
chart and one render.

Differences from Argo CD, and what is done about them:

- Argo CD's default `missingkey=default` prints `<no value>` for a missing key; Helm's engine
  replaces every `<no value>` in its output with the empty string. Generated text can therefore
  differ where a template reads a missing key without `missingkey=error`.
- `missingkey=error` cannot be passed to Helm's renderer. Missing keys are detected here instead,
  best effort: simple field chains (`.a.b`, `$.a.b`) in actions outside any `if`/`range`/`with`
  block are looked up in the parameters, as Go would evaluate them unconditionally.
- Argo CD adds `normalize` and `slugify` (ACD `applicationset/utils/utils.go`, `SanitizeName`,
  `SlugifyName`); Helm has neither. They are rewritten to `include` of helper templates written in
  sprig that compute the same strings. `slugify` with arguments that are not literals is refused.
- Helm adds functions Argo CD does not have (`include`, `tpl`, `required`, ...); a template that
  calls one would fail in Argo CD, so it is reported as an error here too.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import helm_python

CHART_NAME = "argocd-applicationset"

# Functions Helm's engine adds to sprig that Argo CD's ApplicationSet controller does not have
# (ACD `applicationset/utils/utils.go` `init`: sprig minus env/expandenv/getHostByName, plus
# normalize, slugify, toYaml, fromYaml, fromYamlArray).
HELM_ONLY_FUNCTIONS = frozenset(
    {
        "include",
        "tpl",
        "required",
        "lookup",
        "toToml",
        "fromToml",
        "fromJsonArray",
        "toYamlPretty",
        "mustToYaml",
    }
)
# sprig functions Argo CD deletes from its function map.
REMOVED_FUNCTIONS = frozenset({"env", "expandenv", "getHostByName"})

_NORMALIZE = "argocd-appset.normalize"
_FAILURES_BEFORE_SPLIT = 3


class GoTemplateError(Exception):
    """A Go template could not be parsed or executed; the message is a sentence for the user."""


@dataclass(frozen=True, slots=True)
class TemplateJob:
    """One string to render with one parameter map."""

    text: str
    params: Mapping[str, Any]


def render_go_templates(jobs: Sequence[TemplateJob], *, missingkey_error: bool = False) -> list[str | GoTemplateError]:
    """Render every job; the result at index i is the rendered text of job i or its error.

    All jobs go into one Helm chart and one render call; a job that fails is taken out and the
    rest rendered again, so one bad template does not hide the others.
    """
    results: list[str | GoTemplateError | None] = [None] * len(jobs)
    prepared: dict[int, str] = {}
    helpers: set[str] = set()
    for index, job in enumerate(jobs):
        if "{{" not in job.text:
            results[index] = job.text  # no action: Go prints the text as it is
            continue
        try:
            rewritten, used = _prepare(job.text)
            _check_missing_keys(job.text if missingkey_error else _printed_fields(job.text), job.params)
        except GoTemplateError as exc:
            if not missingkey_error and "(missingkey=error)" in str(exc):
                # Without missingkey=error Go prints `<no value>` where Helm's engine prints nothing:
                # the Application Argo CD generates would hold `<no value>`. Fail closed, saying so.
                exc = GoTemplateError(
                    str(exc).replace("(missingkey=error)", "")
                    + "; Argo CD writes `<no value>` there, so the generated Application is not what it looks like"
                )
            results[index] = exc
            continue
        prepared[index] = rewritten
        helpers |= used
    if prepared:
        for index, outcome in _render_batch(prepared, jobs, helpers).items():
            results[index] = outcome
    return [r if r is not None else GoTemplateError("template was not rendered") for r in results]


# --- rendering through Helm ----------------------------------------------------------------------


def _render_batch(
    prepared: Mapping[int, str], jobs: Sequence[TemplateJob], helpers: set[str], *, split: bool = True
) -> dict[int, str | GoTemplateError]:
    """Render `prepared` in one chart; take failing jobs out and render the rest again.

    Helm stops at the first failing template. After a few failures, or a failure that names no
    job, the jobs are split by parameter set (one Application each) so that many failing
    Applications do not cost one render of everything each.
    """
    outcomes: dict[int, str | GoTemplateError] = {}
    pending = dict(prepared)
    failures = 0
    while pending:
        try:
            rendered = _render_chart(pending, jobs, helpers)
        except helm_python.HelmError as exc:
            message = _clean_helm_message(str(exc))
            failed = _failed_job(str(exc), pending)
            if split and (failed is None or failures >= _FAILURES_BEFORE_SPLIT):
                groups: dict[int, dict[int, str]] = {}
                for index, text in pending.items():
                    groups.setdefault(id(jobs[index].params), {})[index] = text
                if len(groups) > 1:
                    for group in groups.values():
                        outcomes.update(_render_batch(group, jobs, helpers, split=False))
                    return outcomes
            if failed is None:
                # The failure names no job: render the rest one by one so each gets its own verdict.
                for index in list(pending):
                    outcomes[index] = _render_one(index, pending[index], jobs, helpers)
                return outcomes
            failures += 1
            if "parse error" in message:
                # A parse error does not depend on the parameters: every job with that text fails.
                bad = pending[failed]
                for index in [i for i, text in pending.items() if text == bad]:
                    outcomes[index] = GoTemplateError(f"failed to parse template {jobs[index].text!r}: {message}")
                    del pending[index]
            else:
                outcomes[failed] = GoTemplateError(f"failed to execute go template {jobs[failed].text!r}: {message}")
                del pending[failed]
            continue
        for index in pending:
            outcomes[index] = rendered.get(f"{CHART_NAME}/templates/o{index}.txt", "")
        return outcomes
    return outcomes


def _render_one(index: int, text: str, jobs: Sequence[TemplateJob], helpers: set[str]) -> str | GoTemplateError:
    try:
        rendered = _render_chart({index: text}, jobs, helpers)
    except helm_python.HelmError as exc:
        return GoTemplateError(f"failed to render go template {jobs[index].text!r}: {_clean_helm_message(str(exc))}")
    return rendered.get(f"{CHART_NAME}/templates/o{index}.txt", "")


def _render_chart(pending: Mapping[int, str], jobs: Sequence[TemplateJob], helpers: set[str]) -> dict[str, str]:
    files: dict[str, str] = {
        "Chart.yaml": f"apiVersion: v2\nname: {CHART_NAME}\nversion: 0.0.0\n",
        "templates/_argocd_helpers.tpl": _helper_templates(helpers),
    }
    values: dict[str, Any] = {}
    param_keys: dict[str, str] = {}
    encoded_by_id: dict[int, str] = {}  # one parameter map usually serves many strings
    for index, text in pending.items():
        params = jobs[index].params
        encoded = encoded_by_id.get(id(params))
        if encoded is None:
            encoded = encoded_by_id[id(params)] = json.dumps(params, sort_keys=True, default=str)
        key = param_keys.get(encoded)
        if key is None:
            key = param_keys[encoded] = f"p{len(param_keys)}"
            values[key] = json.loads(encoded)
        files[f"templates/_s{index}.tpl"] = f'{{{{define "{_job_name(index)}"}}}}{text}{{{{end}}}}'
        files[f"templates/o{index}.txt"] = f'{{{{template "{_job_name(index)}" .Values.{key}}}}}'
    with helm_python.Chart.load_archive(_archive(files)) as chart:
        return chart.render(values, name="appset", namespace="argocd")


def _archive(files: Mapping[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"{CHART_NAME}/{name}")
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _job_name(index: int) -> str:
    return f"argocd-appset.s{index}"


_JOB_IN_ERROR = re.compile(r'templates/_s(\d+)\.tpl|executing "argocd-appset\.s(\d+)"|templates/o(\d+)\.txt')


def _failed_job(message: str, pending: Mapping[int, str]) -> int | None:
    for match in _JOB_IN_ERROR.finditer(message):
        index = int(next(g for g in match.groups() if g is not None))
        if index in pending:
            return index
    return None


def _clean_helm_message(message: str) -> str:
    """Helm's message without the throw-away chart's file names and job template names."""
    text = re.sub(rf"{CHART_NAME}/templates/(_s\d+\.tpl|o\d+\.txt)(:\d+)*", "template", message)
    text = re.sub(r'"argocd-appset\.s\d+"', '""', text)
    text = re.sub(r'include "argocd-appset\.(normalize|slugify)[^"]*"', r"\1", text)
    return " ".join(text.split())


# --- Argo CD's extra functions ------------------------------------------------------------------


def _helper_templates(used: set[str]) -> str:
    """Sprig definitions of Argo CD's `normalize` and `slugify` (ACD `applicationset/utils/utils.go`)."""
    # SanitizeName: lower case, every rune outside [-a-z0-9.] becomes '-', cut at 253, trim "-.".
    parts = [
        f'{{{{- define "{_NORMALIZE}" -}}}}'
        '{{- $s := regexReplaceAll "[^-a-z0-9.]" (lower .) "-" -}}'
        '{{- trimAll "-." (trunc 253 $s) -}}'
        "{{- end -}}"
    ]
    for name in sorted(used):
        if name == _NORMALIZE:
            continue
        max_len, smart = _slugify_args(name)
        parts.append(_slugify_template(name, max_len, smart))
    return "\n".join(parts) + "\n"


def _slugify_name(max_len: int, smart: bool) -> str:
    return f"argocd-appset.slugify-{max_len}-{'smart' if smart else 'cut'}"


def _slugify_args(name: str) -> tuple[int, bool]:
    _, max_len, mode = name.rsplit("-", 2)
    return int(max_len), mode == "smart"


def _slugify_template(name: str, max_len: int, smart: bool) -> str:
    # SlugifyName = SanitizeName then github.com/gosimple/slug.Make with MaxLength and
    # EnableSmartTruncate: cut first when smart truncation is off, replace [^a-z0-9-_] by '-',
    # squeeze dashes, trim "-_", then smart-truncate at the last '-' within MaxLength.
    body = [f'{{{{- $s := include "{_NORMALIZE}" . -}}}}']
    if not smart:
        body.append(f"{{{{- if ge (len $s) {max_len} }}}}{{{{- $s = trunc {max_len} $s -}}}}{{{{- end -}}}}")
    body.append('{{- $s = regexReplaceAll "[^a-z0-9-_]" $s "-" -}}')
    body.append('{{- $s = regexReplaceAll "-+" $s "-" -}}')
    body.append('{{- $s = trimAll "-_" $s -}}')
    if smart and max_len > 0:
        body.append(
            f"{{{{- if gt (len $s) {max_len} -}}}}"
            f"{{{{- $t := substr 0 {max_len + 1} $s -}}}}"
            '{{- if contains "-" $t -}}{{- $s = regexReplaceAll "-[^-]*$" $t "" -}}'
            f"{{{{- else -}}}}{{{{- $s = trunc {max_len} $s -}}}}{{{{- end -}}}}"
            "{{- end -}}"
        )
    body.append("{{- $s -}}")
    return f'{{{{- define "{name}" -}}}}' + "".join(body) + "{{- end -}}"


# --- scanning template text ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Action:
    start: int  # offset of the action's body in the template text
    body: str  # text between the delimiters, trim markers removed


def _actions(text: str) -> list[_Action]:
    """The actions of a Go template, with string literals and comments kept intact."""
    actions: list[_Action] = []
    pos = 0
    while True:
        open_at = text.find("{{", pos)
        if open_at < 0:
            return actions
        i = open_at + 2
        if text.startswith("- ", i):
            i += 1
        start = i
        close_at = -1
        while i < len(text):
            ch = text[i]
            if ch in "\"'`":
                i = _skip_literal(text, i)
                continue
            if text.startswith("/*", i):
                end = text.find("*/", i + 2)
                i = len(text) if end < 0 else end + 2
                continue
            if text.startswith("}}", i):
                close_at = i
                break
            i += 1
        if close_at < 0:
            return actions
        body_end = (
            close_at - 1
            if close_at > start and text[close_at - 1] == "-" and text[close_at - 2 : close_at - 1].isspace()
            else close_at
        )
        actions.append(_Action(start, text[start:body_end]))
        pos = close_at + 2


def _skip_literal(text: str, i: int) -> int:
    quote = text[i]
    i += 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return i


_LITERAL = re.compile(r'"(?:\\.|[^"\\])*"|`[^`]*`|\'(?:\\.|[^\'\\])*\'|/\*.*?\*/', re.S)
_IDENT = re.compile(r"(?<![\w.$])([A-Za-z_]\w*)")


def _blank_literals(body: str) -> str:
    """The action body with string literals and comments replaced by spaces (offsets preserved)."""
    return _LITERAL.sub(lambda m: " " * len(m.group(0)), body)


def _prepare(text: str) -> tuple[str, set[str]]:
    """Rewrite Argo CD's extra functions to Helm `include`s; refuse functions Argo CD does not have."""
    used: set[str] = set()
    edits: list[tuple[int, int, str]] = []
    for action in _actions(text):
        blank = _blank_literals(action.body)
        for match in _IDENT.finditer(blank):
            name = match.group(1)
            if name in HELM_ONLY_FUNCTIONS or name in REMOVED_FUNCTIONS:
                raise GoTemplateError(
                    f'failed to parse template {text!r}: function "{name}" not defined '
                    "(the ApplicationSet controller does not provide it)"
                )
            if name == "normalize":
                used.add(_NORMALIZE)
                edits.append((action.start + match.start(1), action.start + match.end(1), f'include "{_NORMALIZE}"'))
            elif name == "slugify":
                replacement, length = _slugify_rewrite(text, blank, match.start(1), match.end(1))
                used.add(_NORMALIZE)
                used.add(replacement)
                start = action.start + match.start(1)
                edits.append((start, start + length, f'include "{replacement}"'))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text, used


_ARG_TOKEN = re.compile(r"\s*(\(|\)|\||[^\s()|]+)")


def _slugify_rewrite(text: str, blank: str, start: int, end: int) -> tuple[str, int]:
    """`slugify [max [smart]]` to the helper for those literal arguments; returns (helper, span length).

    Argo CD's SlugifyName takes the last argument as the name, the first as the maximum length and
    the second as the smart-truncation switch; the defaults are 50 and true.
    """
    piped = blank[:start].rstrip().endswith("|")
    args: list[tuple[str, int]] = []  # (token, end offset in blank)
    pos = end
    depth = 0
    while True:
        match = _ARG_TOKEN.match(blank, pos)
        if match is None:
            break
        token = match.group(1)
        if token == "(":
            depth += 1
        elif token == ")":
            if depth == 0:
                break
            depth -= 1
        elif token == "|" and depth == 0:
            break
        if depth == 0 or token == "(":
            args.append((token, match.end()))
        pos = match.end()
    count = len(args) + (1 if piped else 0)
    literal = [token for token, _ in args]
    max_len, smart, consumed = 50, True, 0
    if count >= 2:
        if not literal or not literal[0].isdigit():
            raise GoTemplateError(f"slugify in {text!r}: only a literal maximum length is supported here")
        max_len, consumed = int(literal[0]), 1
    if count >= 3:
        if len(literal) < 2 or literal[1] not in ("true", "false"):
            raise GoTemplateError(
                f"slugify in {text!r}: only a literal true/false smart-truncation switch is supported"
            )
        smart, consumed = literal[1] == "true", 2
    if count > 3:
        raise GoTemplateError(f"slugify in {text!r}: too many arguments")
    span_end = args[consumed - 1][1] if consumed else end
    return _slugify_name(max_len, smart), span_end - start


# --- missingkey=error ---------------------------------------------------------------------------

_BARE_FIELD = re.compile(r"\{\{-?\s*(\.[A-Za-z_][\w.]*)\s*-?\}\}")
_BLOCK = re.compile(r"\{\{-?\s*(?:if|range|with|define|block|template)\b")


def _printed_fields(text: str) -> str:
    """The actions that print a field as it is (`{{ .a.b }}`): without missingkey=error only those
    show `<no value>`; a missing key piped into a function (`| default "x"`) is just nil. Templates
    with blocks change what `.` is and are left alone."""
    if _BLOCK.search(text):
        return ""
    return " ".join("{{ " + m.group(1) + " }}" for m in _BARE_FIELD.finditer(text))


_BLOCK_OPEN = frozenset({"if", "range", "with", "define", "block"})
_CHAIN = re.compile(r"(?<![\w)\]])(\$?)((?:\.[A-Za-z_]\w*)+)")


def _check_missing_keys(text: str, params: Mapping[str, Any]) -> None:
    """Raise like Go's `missingkey=error` for field chains that are always evaluated.

    Only actions outside any block are checked (plus the condition of a block's opening action):
    inside `if`, `range` or `with` the chain may never run, or `.` may be something else.
    """
    depth = 0
    for action in _actions(text):
        blank = _blank_literals(action.body).strip()
        keyword = blank.split(None, 1)[0] if blank else ""
        if keyword == "end":
            depth = max(0, depth - 1)
            continue
        if keyword in ("else", "break", "continue"):
            continue
        if depth == 0 and keyword not in ("define", "block"):
            for match in _CHAIN.finditer(blank):
                before = blank[: match.start()]
                if match.group(1) == "" and re.search(r"\$\w*$", before):
                    continue  # a variable's field ($x.a): not the parameters
                _lookup(text, match.group(2)[1:].split("."), params)
        if keyword in _BLOCK_OPEN:
            depth += 1


def _lookup(text: str, keys: list[str], params: Mapping[str, Any]) -> None:
    current: Any = params
    for key in keys:
        if isinstance(current, Mapping):
            if key not in current:
                raise GoTemplateError(
                    f'failed to execute go template {text!r}: map has no entry for key "{key}" (missingkey=error)'
                )
            current = current[key]
        elif current is None:
            raise GoTemplateError(
                f'failed to execute go template {text!r}: nil data; no entry for key "{key}" (missingkey=error)'
            )
        else:
            return  # a field of a string or list: Go reports that itself, and so does Helm
