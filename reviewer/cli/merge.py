"""`gitops-reviewer merge` (the parts of a sharded review into one report and verdict), and the part a
`gitops-reviewer check --shard I/N` job writes.

Exit codes as `check`: 0 pass, 1 blocking findings or failed renders, 2 a usage error, which includes
a missing, duplicate, foreign or unreadable part (named), 3 an internal error.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from ..change import resolve_change
from ..errors import UsageError
from ..llm.options import LlmOptions
from ..records import SEVERITIES, Report
from ..rendering.cache import RenderCache
from ..report import FORMATS
from ..sharding import ShardSpec, format_part, load_part, merge_parts, run_shard
from .check import _EXIT, _emit, _Progress

PUBLISHERS = ("github", "gitlab")


def check_shard(
    ctx: click.Context,
    shard: str,
    *,
    repo: Path,
    base: str | None,
    head: str | None,
    offline: bool | None,
    config_path: Path | None,
    all_apps: bool,
    fail_on: str,
    fmt: str,
    output: Path | None,
    llm: LlmOptions | None = None,
    jobs: int | None = None,
    cache: RenderCache | None = None,
) -> int:
    """`check --shard I/N`: review this shard's share of the apps and write its part (JSON, to --output or
    standard output). The exit code says whether the part was written, not the verdict: `merge` gives
    that, over every part."""
    spec = ShardSpec.parse(shard)
    if fmt != "json" and ctx.get_parameter_source("fmt") not in (None, ParameterSource.DEFAULT):
        raise UsageError(f"--shard writes a JSON part for `gitops-reviewer merge`; --format {fmt} cannot be used")
    part = run_shard(
        resolve_change(repo, base, head),
        spec,
        fail_on=fail_on,
        all_apps=all_apps,
        offline=offline,
        config_path=config_path,
        progress=_Progress(),
        llm=llm,
        jobs=jobs,
        cache=cache,
    )
    text = format_part(part)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    where = f"written to {output}" if output is not None else "written to standard output"
    click.echo(
        f"gitops-reviewer: shard {spec}: {len(part.meta.assigned)} of {len(part.meta.selection)} selected apps "
        f"reviewed (this share alone: {part.report.verdict}); part {where}. The verdict is merge's, over every part.",
        err=True,
    )
    return 0


def publisher(platform: str) -> Callable[[Report], Any]:
    """The publisher of `platform`, for `merge --publish`.

    A publisher is the module `reviewer.publish.<platform>` with a function
    `publish_report_from_environment(report: Report) -> tuple[PublishOutcome, ...]`: it reads the CI
    environment (repository, pull/merge request, token) as the platform's own subcommand does, posts or
    updates the report, and raises a ReviewerError when the environment is not a pull/merge request's.
    """
    name = f"reviewer.publish.{platform}"
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise  # the publisher exists but something it imports is missing: an installation error
        module = None
    publish = getattr(module, "publish_report_from_environment", None)
    if publish is None:
        raise UsageError(f"this installation has no {platform} publisher for merged reports")
    return publish  # type: ignore[no-any-return]


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such part file (did its shard job fail or its artifact not arrive?)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the part: {exc}") from None


@click.command("merge")
@click.argument("parts", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text", show_default=True)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the report to this file instead of standard output.",
)
@click.option("--color/--no-color", default=None, help="Colour the text format (default: on a terminal).")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default=None,
    help="Lowest finding severity that fails the merge (default: the shards' --fail-on).",
)
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The config repo, at the shards' revisions: needed only when apps of different shards interact "
    "and are reviewed again together.",
)
@click.option(
    "--publish",
    type=click.Choice(PUBLISHERS),
    default=None,
    help="Also post the merged report to the pull/merge request of this CI run.",
)
def merge_command(
    parts: tuple[Path, ...],
    fmt: str,
    output: Path | None,
    color: bool | None,
    fail_on: str | None,
    repo: Path,
    publish: str | None,
) -> None:
    """Merge the parts of a sharded review (`check --shard I/N --output part-I.json`) into one report.

    Every shard's part must be given, once: a missing, duplicate or foreign part is an error, never a pass.

    Exit codes: 0 pass, 1 blocking findings or failed renders, 2 usage error (a part missing, duplicated,
    unreadable or from another review), 3 internal error.
    """
    post = publisher(publish) if publish else None
    loaded = [load_part(_read(path), str(path)) for path in parts]
    report = merge_parts(loaded, fail_on=fail_on, repo=repo if repo.is_dir() else None, progress=_Progress())
    if post is not None:
        for outcome in post(report):
            state = "posted" if outcome.posted else "could not post"
            click.echo(f"gitops-reviewer: {state} the {outcome.surface}: {outcome.detail}", err=True)
    _emit(report, fmt, output, color, include_verdict=True)
    if output is not None:
        click.echo(f"gitops-reviewer: {report.verdict}; merged report written to {output}", err=True)
    sys.exit(_EXIT[report.verdict])
