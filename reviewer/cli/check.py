"""`gitops-reviewer check` (the local pre-merge gate) and `gitops-reviewer diff` (the diff alone)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..records import Report
from ..report import FORMATS, FormatOptions
from .options import fail_on_option, llm_options, render_options, repo_options

if TYPE_CHECKING:
    from ..llm.options import LlmOptions
    from ..rendering.cache import RenderCache

_EXIT = {"pass": 0, "fail": 1, "error": 1}


class _Progress:
    """A bar on a terminal, a line per quarter otherwise; silent for a handful of renders."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = -1

    def __call__(self, done: int, total: int, app: str) -> None:
        if total < 5:
            return
        if self.tty:
            width = 30
            filled = width * done // total
            line = f"\rrendering [{'#' * filled}{' ' * (width - filled)}] {done}/{total} {app[:40]:<40}"
            click.echo(line, err=True, nl=done == total)
            return
        quarter = 4 * done // total
        if quarter != self.last:
            self.last = quarter
            click.echo(f"rendering: {done}/{total} renders done", err=True)


def review_options(func: Any) -> Any:
    func = click.option("--all-apps", is_flag=True, help="Render every app, not only those the change can affect.")(
        func
    )
    func = click.option("--head", "head", default=None, help="Head revision (default: the working tree).")(func)
    func = click.option(
        "--base", "base", default=None, help="Base revision (default: merge-base of HEAD with the default branch)."
    )(func)
    func = click.option(
        "--output",
        "output",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the report to this file instead of standard output.",
    )(func)
    func = click.option("--format", "fmt", type=click.Choice(sorted(FORMATS)), default="text", show_default=True)(func)
    func = click.option("--color/--no-color", default=None, help="Colour the text format (default: on a terminal).")(
        func
    )
    return func


def _run(
    repo: Path,
    base: str | None,
    head: str | None,
    offline: bool | None,
    config_path: Path | None,
    all_apps: bool,
    fail_on: str,
    llm: LlmOptions | None,
    jobs: int | None,
    cache: RenderCache | None,
) -> Report:
    from concurrent.futures import ThreadPoolExecutor

    from ..change import resolve_change

    # Resolving the change is a few git commands, spent waiting: the pipeline is imported meanwhile
    # (when a review runs, not for --help).
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="resolve-change") as pool:
        resolving = pool.submit(resolve_change, repo, base, head)
        from ..review import review

        change = resolving.result()
    return review(
        change,
        fail_on=fail_on,
        all_apps=all_apps,
        offline=offline,
        config_path=config_path,
        progress=_Progress(),
        llm=llm,
        jobs=jobs,
        cache=cache,
    )


def _emit(report: Report, fmt: str, output: Path | None, color: bool | None, include_verdict: bool) -> None:
    use_color = (output is None and sys.stdout.isatty()) if color is None else color
    text = FORMATS[fmt](report, FormatOptions(color=use_color and fmt == "text", include_verdict=include_verdict))
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=not text.endswith("\n"))


@click.command("check")
@repo_options
@review_options
@fail_on_option
@llm_options
@render_options
@click.option(
    "--shard",
    default=None,
    metavar="I/N",
    help="Review only the I-th of N shares of the affected apps and write a JSON part for "
    "`gitops-reviewer merge` (one CI job per share).",
)
@click.pass_context
def check_command(
    ctx: click.Context,
    repo: Path,
    config_path: Path | None,
    offline: bool | None,
    color: bool | None,
    fmt: str,
    output: Path | None,
    base: str | None,
    head: str | None,
    all_apps: bool,
    fail_on: str,
    llm: LlmOptions,
    shard: str | None,
    jobs: int | None,
    cache: RenderCache | None,
) -> None:
    """Review the change before you push: what will Argo CD do when it merges?

    Exit codes: 0 pass, 1 blocking findings or failed renders, 2 usage or configuration error, 3 internal error.
    The advisory LLM review (--llm) never changes the exit code: its findings are capped (llm.severityCap).
    With --shard, 0 means the part was written: the verdict is `gitops-reviewer merge`'s.
    """
    if shard is not None:
        from .merge import check_shard  # merge imports this module

        raise SystemExit(
            check_shard(
                ctx,
                shard,
                repo=repo,
                base=base,
                head=head,
                offline=offline,
                config_path=config_path,
                all_apps=all_apps,
                fail_on=fail_on,
                fmt=fmt,
                output=output,
                llm=llm,
                jobs=jobs,
                cache=cache,
            )
        )
    report = _run(repo, base, head, offline, config_path, all_apps, fail_on, llm, jobs, cache)
    _emit(report, fmt, output, color, include_verdict=True)
    if report.llm is not None and report.llm.status == "misconfigured":
        from ..report.llm_notes import MISCONFIGURED

        # Loud, whatever the format and wherever the report went: a broken key must not go unnoticed.
        click.echo(f"gitops-reviewer: {MISCONFIGURED}: {report.llm.reason}", err=True)
    if output is not None:
        click.echo(f"gitops-reviewer: {report.verdict}; report written to {output}", err=True)
    raise SystemExit(_EXIT[report.verdict])


@click.command("diff")
@repo_options
@review_options
@render_options
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are changes (like git diff --exit-code).")
def diff_command(
    repo: Path,
    config_path: Path | None,
    offline: bool | None,
    color: bool | None,
    fmt: str,
    output: Path | None,
    base: str | None,
    head: str | None,
    all_apps: bool,
    exit_code: bool,
    jobs: int | None,
    cache: RenderCache | None,
) -> None:
    """Print what Argo CD would change, app by app, without judging it (`argocd app diff` for the repo).

    Exits 1 when a render failed (the diff would be incomplete) or, with --exit-code, when anything changes.
    """
    report = _run(repo, base, head, offline, config_path, all_apps, "critical", None, jobs, cache)
    _emit(report, fmt, output, color, include_verdict=False)
    failed = bool(report.errors) or (exit_code and bool(report.changes))
    raise SystemExit(1 if failed else 0)
