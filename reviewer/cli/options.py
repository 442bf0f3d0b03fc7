"""Options shared by the subcommands that open a revision of the config repo."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def revision_options(func: F) -> F:
    """--repo, --config, --offline and --rev: for commands that read one revision."""
    func = repo_options(func)
    return click.option(
        "--rev",
        default="WORKTREE",
        show_default=True,
        help="Git revision to read; WORKTREE means the working tree, uncommitted changes included.",
    )(func)


def repo_options(func: F) -> F:
    """--repo, --config and --offline."""
    func = click.option(
        "--offline/--online",
        default=None,
        help="Refuse (or allow) network fetches of charts from chart repositories. "
        "Default: online unless GITOPS_REVIEWER_OFFLINE=1.",
    )(func)
    func = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Read this config file instead of the revision's .gitops-reviewer.yaml.",
    )(func)
    func = click.option(
        "--repo",
        type=click.Path(exists=True, file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="The config repo (may be a subdirectory of a git repository).",
    )(func)
    return func
