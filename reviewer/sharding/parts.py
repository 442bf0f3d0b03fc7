"""One shard's part: the review of its share of the apps, as a JSON report with a `shard` section.

A part is a complete JSON report (docs/report-json.md) of what the shard reviewed, so any tool that
reads reports reads it; the `shard` section holds what `merge` needs besides:

- `index`, `total`, `algorithm`, `partitionDigest`: which share this is, of which partition; parts
  of one review agree on all but the index;
- `selection` (app id -> why it was selected) and `assigned`: the selection the partition started
  from and this shard's share of it, so a missing part is noticed and names the apps nobody reviewed;
- `costs`: every shard's estimated cost, to see how balanced the jobs were;
- `failOn`, `options`: the verdict threshold and the options the review ran with (the merge re-reviews
  interacting apps the same way);
- `errors`: how the report's `errors` split: the first `discovery` come from discovering the apps
  (every part has them; the merged report lists them once), then `base` render errors, then `head`;
- `interactions`: the facts `merge` needs to find apps of different shards that interact
  (reviewer.sharding.interactions).

Findings are kept by the shard that reviews the app they are about; findings about an app no shard
reviews (the gate's own configuration changed, say) by shard 1 alone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..change import ChangeSpec
from ..errors import UsageError
from ..llm.options import LlmOptions
from ..records import Finding, RenderError, Report
from ..rendering.cache import RenderCache
from ..report.json_load import load_document, report_from_document
from ..report.json_report import report_document
from ..review import Progress, Rendered, review, verdict
from ..revision import RevisionView
from ..selection import Selection
from .interactions import AppFacts, app_facts
from .partition import ALGORITHM, Partition, ShardSpec, partition


@dataclass(frozen=True, slots=True)
class ReviewOptions:
    """The options a review ran with, which a re-review at merge must repeat."""

    head: str  # the head revision as given: a SHA, or WORKTREE
    all_apps: bool = False
    offline: bool | None = None
    config_path: str | None = None


@dataclass(frozen=True, slots=True)
class ShardMeta:
    """The `shard` section of a part (see the module doc)."""

    spec: ShardSpec
    partition_digest: str
    selection: Mapping[str, str]
    assigned: frozenset[str]
    costs: tuple[int, ...]
    fail_on: str
    options: ReviewOptions
    discovery_errors: int
    base_errors: int
    head_errors: int
    facts: Mapping[str, AppFacts]
    algorithm: str = ALGORITHM

    def document(self) -> dict[str, Any]:
        return {
            "index": self.spec.index,
            "total": self.spec.total,
            "algorithm": self.algorithm,
            "partitionDigest": self.partition_digest,
            "selection": dict(self.selection),
            "assigned": sorted(self.assigned),
            "costs": list(self.costs),
            "failOn": self.fail_on,
            "options": {
                "head": self.options.head,
                "allApps": self.options.all_apps,
                "offline": self.options.offline,
                "config": self.options.config_path,
            },
            "errors": {"discovery": self.discovery_errors, "base": self.base_errors, "head": self.head_errors},
            "interactions": {app: facts.document() for app, facts in sorted(self.facts.items())},
        }


@dataclass(frozen=True, slots=True)
class ShardPart:
    """A part as written by a shard or read back from its file (`source`)."""

    source: str
    report: Report
    meta: ShardMeta

    @property
    def discovery_errors(self) -> tuple[RenderError, ...]:
        return self.report.errors[: self.meta.discovery_errors]

    @property
    def base_errors(self) -> tuple[RenderError, ...]:
        start = self.meta.discovery_errors
        return self.report.errors[start : start + self.meta.base_errors]

    @property
    def head_errors(self) -> tuple[RenderError, ...]:
        return self.report.errors[self.meta.discovery_errors + self.meta.base_errors :]


def format_part(part: ShardPart) -> str:
    """The part as its JSON file: the report, with its `shard` section."""
    document = report_document(part.report)
    document["shard"] = part.meta.document()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


class _ShardScope:
    """The review.ReviewScope of one shard: its share of the partition, and what it rendered."""

    def __init__(self, spec: ShardSpec) -> None:
        self.spec = spec
        self.selection: dict[str, str] = {}
        self.partition = Partition((), ())
        self.result: Rendered | None = None

    @property
    def assigned(self) -> frozenset[str]:
        return self.partition.shares[self.spec.index - 1]

    def narrow(self, selection: Selection, base: RevisionView, head: RevisionView) -> Mapping[str, str]:
        self.selection = dict(selection.selected)
        base_apps = {a.id: a for a in base.discovery.apps}
        head_apps = {a.id: a for a in head.discovery.apps}
        self.partition = partition(
            list(self.selection), base_apps, head_apps, base.tree.root, head.tree.root, base.config, self.spec.total
        )
        return {app: why for app, why in self.selection.items() if app in self.assigned}

    def rendered(self, rendered: Rendered) -> None:
        self.result = rendered


def owns(finding: Finding, assigned: frozenset[str], reviewed: Mapping[str, str], index: int) -> bool:
    """Whether the shard `index` reports this finding (see the module doc)."""
    return finding.app in assigned if finding.app in reviewed else index == 1


def run_shard(
    change: ChangeSpec,
    spec: ShardSpec,
    *,
    fail_on: str = "error",
    all_apps: bool = False,
    offline: bool | None = None,
    config_path: Path | None = None,
    progress: Progress | None = None,
    llm: LlmOptions | None = None,
    jobs: int | None = None,
    cache: RenderCache | None = None,
) -> ShardPart:
    """Review this shard's share of the apps the change selects."""
    scope = _ShardScope(spec)
    report = review(
        change,
        fail_on=fail_on,
        all_apps=all_apps,
        offline=offline,
        config_path=config_path,
        progress=progress,
        scope=scope,
        llm=llm,
        jobs=jobs,
        cache=cache,
    )
    rendered = scope.result
    assert rendered is not None
    findings = tuple(f for f in report.findings if owns(f, scope.assigned, scope.selection, spec.index))
    report = replace(report, findings=findings, verdict=verdict(report.errors, findings, fail_on))
    meta = ShardMeta(
        spec=spec,
        partition_digest=scope.partition.digest,
        selection=scope.selection,
        assigned=scope.assigned,
        costs=scope.partition.costs,
        fail_on=fail_on,
        options=ReviewOptions(
            head=change.head, all_apps=all_apps, offline=offline, config_path=str(config_path) if config_path else None
        ),
        discovery_errors=len(rendered.discovery_errors),
        base_errors=sum(len(result.errors) for result in rendered.base.values()),
        head_errors=sum(len(result.errors) for result in rendered.head.values()),
        facts=app_facts(rendered, scope.assigned),
    )
    return ShardPart("", report, meta)


# --- reading a part back --------------------------------------------------------------------------------


def _fail(source: str, problem: str) -> UsageError:
    return UsageError(f"{source}: not a shard part of gitops-reviewer check --shard: {problem}")


def _strings(value: Any, source: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, f"shard.{where} must be a list of strings")
    return value


def _count(data: Mapping[str, Any], key: str, source: str, where: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _fail(source, f"shard.{where}.{key} must be a count")
    return value


def _facts(value: Any, source: str) -> dict[str, AppFacts]:
    if not isinstance(value, dict):
        raise _fail(source, "shard.interactions must be an object")
    out = {}
    for app, data in value.items():
        where = f"interactions.{app}"
        if not isinstance(data, dict) or not (data.get("cluster") is None or isinstance(data["cluster"], str)):
            raise _fail(source, f"shard.{where} must be an object with a cluster")
        kinds: dict[str, tuple[tuple[str, str], ...]] = {}
        for key in ("kinds", "immutableKinds"):
            items = data.get(key)
            if not isinstance(items, list) or not all(
                isinstance(k, list) and len(k) == 2 and all(isinstance(p, str) for p in k) for k in items
            ):
                raise _fail(source, f"shard.{where}.{key} must be a list of [group, kind]")
            kinds[key] = tuple((k[0], k[1]) for k in items)
        out[app] = AppFacts(
            cluster=data["cluster"],
            namespaces=tuple(_strings(data.get("namespaces"), source, f"{where}.namespaces")),
            kinds=kinds["kinds"],
            immutable_kinds=kinds["immutableKinds"],
            parents=tuple(_strings(data.get("parents"), source, f"{where}.parents")),
        )
    return out


def _meta(data: Any, source: str) -> ShardMeta:
    if data is None:
        raise _fail(source, "it has no shard section (a report of a whole review cannot be merged)")
    if not isinstance(data, dict):
        raise _fail(source, "shard must be an object")
    if data.get("algorithm") != ALGORITHM:
        raise _fail(
            source,
            f"it was partitioned by {data.get('algorithm')!r}, this version partitions by {ALGORITHM!r}: "
            "run every shard and the merge with the same gitops-reviewer version",
        )
    index, total = data.get("index"), data.get("total")
    if not isinstance(index, int) or not isinstance(total, int) or not 1 <= index <= total:
        raise _fail(source, "shard.index and shard.total must be whole numbers with 1 <= index <= total")
    selection = data.get("selection")
    if not isinstance(selection, dict) or not all(isinstance(v, str) for v in selection.values()):
        raise _fail(source, "shard.selection must map app ids to reasons")
    costs = data.get("costs")
    if not isinstance(costs, list) or len(costs) != total or not all(isinstance(c, int) for c in costs):
        raise _fail(source, "shard.costs must list one whole number per shard")
    options, errors = data.get("options"), data.get("errors")
    if not isinstance(options, dict) or not isinstance(errors, dict):
        raise _fail(source, "shard.options and shard.errors must be objects")
    head, config = options.get("head"), options.get("config")
    offline, all_apps = options.get("offline"), options.get("allApps")
    if (
        not isinstance(head, str)
        or not (config is None or isinstance(config, str))
        or not (offline is None or isinstance(offline, bool))
        or not isinstance(all_apps, bool)
    ):
        raise _fail(source, "shard.options must hold head, allApps, offline and config")
    digest, fail_on = data.get("partitionDigest"), data.get("failOn")
    if not isinstance(digest, str) or not isinstance(fail_on, str):
        raise _fail(source, "shard.partitionDigest and shard.failOn must be strings")
    return ShardMeta(
        spec=ShardSpec(index, total),
        partition_digest=digest,
        selection=selection,
        assigned=frozenset(_strings(data.get("assigned"), source, "assigned")),
        costs=tuple(costs),
        fail_on=fail_on,
        options=ReviewOptions(head=head, all_apps=all_apps, offline=offline, config_path=config),
        discovery_errors=_count(errors, "discovery", source, "errors"),
        base_errors=_count(errors, "base", source, "errors"),
        head_errors=_count(errors, "head", source, "errors"),
        facts=_facts(data.get("interactions"), source),
    )


def load_part(text: str, source: str) -> ShardPart:
    """A part file read back; anything that is not a well-formed part is a UsageError naming `source`."""
    document = load_document(text, source)
    report = report_from_document(document, source)
    meta = _meta(document.get("shard"), source)
    counted = meta.discovery_errors + meta.base_errors + meta.head_errors
    if counted != len(report.errors):
        raise _fail(source, f"shard.errors counts {counted} errors, the report lists {len(report.errors)}")
    return ShardPart(source, report, meta)
