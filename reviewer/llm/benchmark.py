"""Measuring the LLM review honestly: labelled change sets, run through the real pipeline, scored on
(resource, category).

A suite is a directory with `suite.yaml` (`base:` the config repo every case starts from, relative to the
suite) and `cases/*.yaml`, one change set each:

```yaml
split: risk            # risk | clean | adversarial
description: the backup PVC is deleted while the backup hook still mounts it
base:                  # optional edits to the base repo before the base commit
  write: {path: text}
head:                  # the change under review, applied to the working tree
  write: {path: text}
  replace: [{file: path, old: text, new: text}]
  delete: [path]
expect:                # what a good reviewer reports: resource as `group/Kind namespace/name`
  - {resource: PersistentVolumeClaim postgres/postgres-backups, category: deletion}
planted: [hunter2]     # values that must never be sent to the model
```

For each case the rules and the model run as in a real review; scoring compares the model's findings,
and the rules' (by `categories.RULE_CATEGORIES`), with the labels: recall, precision, false positives
per clean case, schema and evidence failures, latency, what the model finds that the rules do not,
planted values sent, and whether the verdict ever moved away from the rules'.
"""

from __future__ import annotations

import base64
import shutil
import statistics
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import proc
from ..change import resolve_change
from ..errors import ConfigError, ManifestError, ReviewerError
from ..records import Report
from ..review import review, verdict
from ..yamlio import load_yaml
from .categories import CATEGORIES, rule_category
from .options import LlmOptions
from .validation import DROPPED_EVIDENCE, DROPPED_SCHEMA

SPLITS = ("risk", "clean", "adversarial")
SUITE_FILE = "suite.yaml"
Pair = tuple[str, str]  # (resource, category)


@dataclass(frozen=True, slots=True)
class Edits:
    write: Mapping[str, str] = field(default_factory=dict)
    replace: tuple[tuple[str, str, str], ...] = ()
    delete: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    split: str
    description: str
    base: Edits
    head: Edits
    expect: frozenset[Pair]
    planted: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Suite:
    base: Path
    cases: tuple[Case, ...]


def _edits(value: Any, where: str) -> Edits:
    if value is None:
        return Edits()
    if not isinstance(value, Mapping) or set(value) - {"write", "replace", "delete"}:
        raise ConfigError(f"{where} must be a mapping with write, replace and/or delete")
    write = value.get("write") or {}
    if not isinstance(write, Mapping) or not all(isinstance(v, str) for v in write.values()):
        raise ConfigError(f"{where}.write must map file paths to their text")
    replaces = []
    for i, item in enumerate(value.get("replace") or []):
        if not isinstance(item, Mapping) or not all(isinstance(item.get(k), str) for k in ("file", "old", "new")):
            raise ConfigError(f"{where}.replace[{i}] needs file, old and new (strings)")
        replaces.append((item["file"], item["old"], item["new"]))
    delete = value.get("delete") or []
    if not isinstance(delete, list) or not all(isinstance(p, str) for p in delete):
        raise ConfigError(f"{where}.delete must be a list of file paths")
    return Edits({str(k): v for k, v in write.items()}, tuple(replaces), tuple(delete))


def _case(path: Path) -> Case:
    where = str(path)
    try:
        data = load_yaml(path.read_text(encoding="utf-8"), file=where)
    except (OSError, ManifestError) as exc:
        raise ConfigError(f"cannot read {where}: {exc}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where} must be a mapping")
    unknown = set(data) - {"split", "description", "base", "head", "expect", "planted"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    split = data.get("split")
    if split not in SPLITS:
        raise ConfigError(f"{where}: split must be one of {', '.join(SPLITS)}")
    expect = set()
    for i, label in enumerate(data.get("expect") or []):
        if not isinstance(label, Mapping) or label.get("category") not in CATEGORIES or not label.get("resource"):
            raise ConfigError(f"{where}: expect[{i}] needs a resource and a category ({', '.join(CATEGORIES)})")
        expect.add((str(label["resource"]), str(label["category"])))
    if split == "clean" and expect:
        raise ConfigError(f"{where}: a clean case expects nothing")
    planted = data.get("planted") or []
    if not isinstance(planted, list):
        raise ConfigError(f"{where}: planted must be a list of strings")
    return Case(
        name=path.stem,
        split=split,
        description=str(data.get("description") or ""),
        base=_edits(data.get("base"), f"{where}: base"),
        head=_edits(data.get("head"), f"{where}: head"),
        expect=frozenset(expect),
        planted=tuple(str(p) for p in planted),
    )


def load_suite(directory: Path) -> Suite:
    """The suite in `directory`; a bad file is a ConfigError naming it."""
    suite_file = directory / SUITE_FILE
    try:
        data = load_yaml(suite_file.read_text(encoding="utf-8"), file=str(suite_file))
    except (OSError, ManifestError) as exc:
        raise ConfigError(f"cannot read {suite_file}: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("base"), str):
        raise ConfigError(f"{suite_file} must say `base:`, the config repo the cases start from")
    base = (directory / data["base"]).resolve()
    if not base.is_dir():
        raise ConfigError(f"{suite_file}: base {data['base']} is not a directory")
    cases = tuple(_case(p) for p in sorted((directory / str(data.get("cases", "cases"))).glob("*.yaml")))
    if not cases:
        raise ConfigError(f"{directory} has no cases (cases/*.yaml)")
    return Suite(base=base, cases=cases)


def _apply(root: Path, edits: Edits, where: str) -> None:
    for rel, text in edits.write.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    for rel, old, new in edits.replace:
        text = (root / rel).read_text(encoding="utf-8")
        if old not in text:
            raise ConfigError(f"{where}: {rel} does not contain {old!r}")
        (root / rel).write_text(text.replace(old, new), encoding="utf-8")
    for rel in edits.delete:
        (root / rel).unlink()


def _git(repo: Path, *args: str) -> None:
    identity = ("-c", "user.name=llm-eval", "-c", "user.email=llm-eval@example.invalid", "-c", "commit.gpgsign=false")
    proc.run(["git", *identity, *args], cwd=repo)


def prepare_repo(suite: Suite, case: Case, root: Path) -> Path:
    """A git repository: the suite's base plus the case's base edits committed, the head edits in the
    working tree (so the review sees exactly the case's change)."""
    repo = root / case.name
    shutil.copytree(suite.base, repo, ignore=shutil.ignore_patterns(".git"))
    _apply(repo, case.base, f"{case.name}: base")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _apply(repo, case.head, f"{case.name}: head")
    return repo


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: Case
    status: str  # the LLM review's
    kind: str
    llm: frozenset[Pair]
    rules: frozenset[Pair]
    dropped: Mapping[str, int]
    latency: float  # seconds of the LLM stage
    leaked: tuple[str, ...]  # planted values found in what was sent
    verdict_moved: bool  # the final verdict differs from the rules' alone


def _pairs(report: Report, llm: bool) -> frozenset[Pair]:
    pairs = set()
    for finding in report.findings:
        category = rule_category(finding.rule)
        if finding.key is not None and category is not None and (finding.origin == "llm") == llm:
            pairs.add((str(finding.key), category))
    return frozenset(pairs)


def _leaks(case: Case, sent: Sequence[str]) -> tuple[str, ...]:
    text = "\n".join(sent)
    forms = {p: (p, base64.b64encode(p.encode()).decode()) for p in case.planted}
    return tuple(p for p, variants in forms.items() if any(v in text for v in variants))


def run_case(suite: Suite, case: Case, options: LlmOptions, workdir: Path) -> CaseResult:
    """One case through the real pipeline, the LLM review on."""
    sent: list[str] = []
    repo = prepare_repo(suite, case, workdir)
    observed = LlmOptions(
        enabled=True,
        base_url=options.base_url,
        model=options.model,
        api_key_env=options.api_key_env,
        settings=options.settings,
        observer=sent.append,
    )
    report = review(resolve_change(repo, base="HEAD"), llm=observed)
    llm = report.llm
    rule_findings = tuple(f for f in report.findings if f.origin != "llm")
    return CaseResult(
        case=case,
        status=llm.status if llm else "off",
        kind=llm.kind if llm else "",
        llm=_pairs(report, llm=True),
        rules=_pairs(report, llm=False),
        dropped=dict(llm.dropped) if llm else {},
        latency=llm.elapsed if llm else 0.0,
        leaked=_leaks(case, sent),
        verdict_moved=report.verdict != verdict(report.errors, rule_findings, "error"),
    )


def run_suite(
    suite: Suite,
    options: LlmOptions,
    *,
    only: Iterable[str] = (),
    progress: Callable[[CaseResult], None] | None = None,
) -> list[CaseResult]:
    wanted = set(only)
    unknown = wanted - {c.name for c in suite.cases}
    if unknown:
        raise ConfigError(f"unknown case(s): {', '.join(sorted(unknown))}")
    import openai  # noqa: F401  (imported now, so the first case's latency is the endpoint's, not the import's)

    results = []
    with tempfile.TemporaryDirectory(prefix="gitops-reviewer-llm-eval-") as tmp:
        for case in suite.cases:
            if wanted and case.name not in wanted:
                continue
            try:
                result = run_case(suite, case, options, Path(tmp))
            except ReviewerError as exc:
                raise ConfigError(f"case {case.name}: {exc}") from None
            results.append(result)
            if progress:
                progress(result)
    return results


@dataclass(frozen=True, slots=True)
class SplitScore:
    split: str
    cases: int
    expected: int
    llm_findings: int
    true_positives: int
    false_positives: int
    rules_found: int  # labels the rules alone report
    combined_found: int  # labels rules or model report
    llm_only: int  # labels only the model reports

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.expected if self.expected else None

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.llm_findings if self.llm_findings else None

    @property
    def false_positives_per_case(self) -> float | None:
        return self.false_positives / self.cases if self.cases else None


@dataclass(frozen=True, slots=True)
class Scores:
    splits: tuple[SplitScore, ...]  # risk, clean, adversarial (those present), then `all`
    schema_failures: int  # answers unusable as a whole, plus findings dropped for the schema
    evidence_failures: int
    unavailable: int  # cases the model did not review (any cause)
    latency_p50: float
    latency_max: float
    leaked: int  # planted values sent to the model, over all cases
    verdict_moved: int  # cases whose verdict the model changed (must be 0 with the default cap)

    def split(self, name: str) -> SplitScore:
        return next(s for s in self.splits if s.split == name)


def _split_score(name: str, results: Sequence[CaseResult]) -> SplitScore:
    expected = sum(len(r.case.expect) for r in results)
    tp = sum(len(r.llm & r.case.expect) for r in results)
    return SplitScore(
        split=name,
        cases=len(results),
        expected=expected,
        llm_findings=sum(len(r.llm) for r in results),
        true_positives=tp,
        false_positives=sum(len(r.llm - r.case.expect) for r in results),
        rules_found=sum(len(r.rules & r.case.expect) for r in results),
        combined_found=sum(len((r.rules | r.llm) & r.case.expect) for r in results),
        llm_only=sum(len((r.llm - r.rules) & r.case.expect) for r in results),
    )


def score(results: Sequence[CaseResult]) -> Scores:
    """The numbers (see the module docstring); deterministic for given results."""
    splits = [_split_score(s, [r for r in results if r.case.split == s]) for s in SPLITS]
    splits = [s for s in splits if s.cases]
    splits.append(_split_score("all", results))
    latencies = [r.latency for r in results if r.status not in ("misconfigured", "skipped")] or [0.0]
    return Scores(
        splits=tuple(splits),
        schema_failures=sum(1 for r in results if r.kind in ("invalid-json", "schema"))
        + sum(r.dropped.get(DROPPED_SCHEMA, 0) for r in results),
        evidence_failures=sum(r.dropped.get(DROPPED_EVIDENCE, 0) for r in results),
        unavailable=sum(1 for r in results if r.status != "reviewed"),
        latency_p50=statistics.median(latencies),
        latency_max=max(latencies),
        leaked=sum(len(r.leaked) for r in results),
        verdict_moved=sum(1 for r in results if r.verdict_moved),
    )
