"""`gitops-reviewer llm-eval`: score the LLM review on a labelled suite against a configured endpoint.

Exit codes: 0 the suite ran; 1 an invariant broke (a planted secret reached the model, or the model
moved a verdict); 2 usage or configuration error (bad suite, bad flags, a misconfigured endpoint).
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import click

from ..collector import reviews_many
from ..config import load_config
from ..errors import ConfigError
from ..llm.benchmark import CaseResult, Scores, load_suite, run_suite, score
from ..llm.options import LlmOptions
from ..llm.settings import LlmConfig, effective_settings
from .options import llm_options


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _case_line(result: CaseResult) -> str:
    expected = len(result.case.expect)
    tp = len(result.llm & result.case.expect)
    status = result.status if not result.kind else f"{result.status} ({result.kind})"
    return (
        f"{result.case.name:<32} {result.case.split:<12} {expected:>3} {len(result.llm):>4} {tp:>3} "
        f"{len(result.llm - result.case.expect):>3} {result.latency * 1000:>7.0f}  {status}"
    )


def text_report(results: list[CaseResult], scores: Scores, model: str, endpoint: str) -> str:
    lines = [f"llm-eval: {len(results)} cases against {model} at {endpoint}", ""]
    lines.append(f"{'case':<32} {'split':<12} exp  llm  tp  fp      ms  status")
    lines += [_case_line(r) for r in results]
    lines += ["", f"{'split':<12} cases  recall  precision  fp/case  rules-recall  rules+llm  llm-only"]
    for s in scores.splits:
        rules = s.rules_found / s.expected if s.expected else None
        combined = s.combined_found / s.expected if s.expected else None
        lines.append(
            f"{s.split:<12} {s.cases:>5}  {_ratio(s.recall):>6}  {_ratio(s.precision):>9}  "
            f"{_ratio(s.false_positives_per_case):>7}  {_ratio(rules):>12}  {_ratio(combined):>9}  {s.llm_only:>8}"
        )
    every = scores.split("all")
    clean = next((s for s in scores.splits if s.split == "clean"), None)
    lines += [
        "",
        f"recall {_ratio(every.recall)} ({every.true_positives}/{every.expected} labels), "
        f"precision {_ratio(every.precision)} ({every.true_positives}/{every.llm_findings} findings), "
        f"false positives per clean case {_ratio(clean.false_positives_per_case if clean else None)}",
        f"what the LLM adds: {every.llm_only} of {every.expected} labels the rules miss "
        f"(rules alone {every.rules_found}, rules and LLM {every.combined_found})",
        f"schema failures {scores.schema_failures}, evidence failures {scores.evidence_failures}, "
        f"not reviewed {scores.unavailable}, latency p50 {scores.latency_p50 * 1000:.0f} ms, "
        f"max {scores.latency_max * 1000:.0f} ms",
        f"planted secrets sent to the model: {scores.leaked}; verdicts moved by the model: {scores.verdict_moved}",
    ]
    return "\n".join(lines) + "\n"


def json_report(results: list[CaseResult], scores: Scores) -> str:
    def split(s: Any) -> dict[str, Any]:
        data = asdict(s)
        data.update(recall=s.recall, precision=s.precision, falsePositivesPerCase=s.false_positives_per_case)
        return data

    document = {
        "cases": [
            {
                "case": r.case.name,
                "split": r.case.split,
                "status": r.status,
                "kind": r.kind,
                "expected": sorted(map(list, r.case.expect)),
                "llm": sorted(map(list, r.llm)),
                "rules": sorted(map(list, r.rules)),
                "dropped": dict(r.dropped),
                "latency": round(r.latency, 3),
                "leaked": len(r.leaked),
                "verdictMoved": r.verdict_moved,
            }
            for r in results
        ],
        "splits": [split(s) for s in scores.splits],
        "schemaFailures": scores.schema_failures,
        "evidenceFailures": scores.evidence_failures,
        "unavailable": scores.unavailable,
        "latencyP50": round(scores.latency_p50, 3),
        "latencyMax": round(scores.latency_max, 3),
        "leaked": scores.leaked,
        "verdictMoved": scores.verdict_moved,
    }
    return json.dumps(document, indent=2) + "\n"


@click.command(
    "llm-eval", short_help="Score the advisory LLM review on labelled change sets: recall, precision, noise."
)
@click.argument("suite", type=click.Path(exists=True, file_okay=False, path_type=Path), default="benchmarks/llm-eval")
@llm_options
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A .gitops-reviewer.yaml whose `llm:` section gives the endpoint, timeouts and budgets.",
)
@click.option(
    "--prompts",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Score these prompts (a directory with system.txt and/or user.txt) instead of the shipped ones.",
)
@click.option("--case", "cases", multiple=True, help="Run only this case (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def llm_eval_command(
    suite: Path, llm: LlmOptions, config_path: Path | None, prompts: Path | None, cases: tuple[str, ...], fmt: str
) -> None:
    """Score the advisory LLM review on labelled change sets (recall, precision, false positives per
    clean case, schema and evidence failures, latency, what it adds over the rules).

    SUITE is a directory with suite.yaml and cases/*.yaml (default: benchmarks/llm-eval). Every case is
    reviewed through the real pipeline; the model is the one the flags and --config name.
    """
    reviews_many()  # one review per case: each freed once scored
    loaded = load_suite(suite)
    settings = load_config(config_path, required=True).llm if config_path else None
    base = replace(settings or LlmConfig(), enabled=True, cache=False)
    if prompts is not None:
        base = replace(base, prompts=str(prompts.resolve()))
    effective = effective_settings(base, llm)
    if not effective.model:
        raise ConfigError("llm-eval needs a model: pass --llm-model or give one in --config's llm section")
    options = LlmOptions(settings=effective)
    results = run_suite(
        loaded, options, only=cases, progress=lambda r: click.echo(f"llm-eval: {r.case.name}: {r.status}", err=True)
    )
    misconfigured = [r for r in results if r.status == "misconfigured"]
    if misconfigured and len(misconfigured) == len(results):
        raise ConfigError(f"the LLM review is misconfigured ({misconfigured[0].kind}); no case was reviewed")
    scores = score(results)
    if fmt == "json":
        click.echo(json_report(results, scores), nl=False)
    else:
        click.echo(text_report(results, scores, effective.model, effective.endpoint), nl=False)
    raise SystemExit(1 if scores.leaked or scores.verdict_moved else 0)
